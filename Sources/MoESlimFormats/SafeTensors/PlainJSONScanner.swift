import MoESlimSupport

/// The pieces of JSON that writers of headers and index files actually emit, read in place: ASCII strings
/// without escapes or control characters, lists of plain non-negative integers. Each reader returns nil on anything else, which
/// sends the caller to the strict parser; so what these accept is always read exactly as JSONParser reads it
/// (both compare names as bytes).
struct PlainJSONScanner {
    let bytes: UnsafeRawBufferPointer
    var pos = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var atEnd: Bool { pos >= bytes.count }

    var current: UInt8? { pos < bytes.count ? bytes[pos] : nil }

    /// These three run a dozen times per tensor; as calls they were a measurable part of the scan.
    @inline(__always)
    mutating func skipWhitespace() {
        while let c = current, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { pos += 1 }
    }

    /// Skips whitespace, then the byte if it is next.
    @inline(__always)
    mutating func take(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard current == byte else { return false }
        pos += 1
        return true
    }

    /// After one member of an object or list: true when `close` ended it, false after a comma, nil otherwise.
    @inline(__always)
    mutating func closes(_ close: UInt8) -> Bool? {
        skipWhitespace()
        guard let c = current else { return nil }
        pos += 1
        if c == close { return true }
        return c == UInt8(ascii: ",") ? false : nil
    }

    /// The bytes between the quotes of the string at the cursor (after whitespace). Eight bytes at a time: a
    /// byte is special when it is a quote, a backslash, a control character or not ASCII, and the first special
    /// byte must be the closing quote.
    mutating func plainString() -> UnsafeRawBufferPointer? {
        guard take(UInt8(ascii: "\"")), let base = bytes.baseAddress else { return nil }
        let start = pos
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while pos + 8 <= bytes.count {
            let w = base.loadUnaligned(fromByteOffset: pos, as: UInt64.self).littleEndian
            let quote = w ^ (ones &* 0x22)
            let backslash = w ^ (ones &* 0x5C)
            let special = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((w &- ones &* 0x20) & ~w) | w
            let found = special & highs
            if found != 0 {
                pos += found.trailingZeroBitCount / 8
                return closeString(base, from: start)
            }
            pos += 8
        }
        while let c = current, c != UInt8(ascii: "\""), c != UInt8(ascii: "\\"), c >= 0x20, c < 0x80 { pos += 1 }
        return closeString(base, from: start)
    }

    private mutating func closeString(_ base: UnsafeRawPointer, from start: Int) -> UnsafeRawBufferPointer? {
        guard current == UInt8(ascii: "\"") else { return nil }
        pos += 1
        return UnsafeRawBufferPointer(start: base + start, count: pos - 1 - start)
    }

    /// A non-negative integer without sign, fraction, exponent or leading zero that fits in an Int. Up to 16
    /// digits are converted eight at a time (offsets have a dozen, and the digit-by-digit loop was the scanner's
    /// largest cost); longer runs go digit by digit with overflow checks.
    mutating func natural() -> Int? {
        skipWhitespace()
        let start = pos
        let n = digitRun()
        pos += n
        guard n > 0, n == 1 || bytes[start] != 0x30 else { return nil }
        if let c = current, c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { return nil }
        if let base = bytes.baseAddress, n <= 16, start + 16 <= bytes.count {
            func digits(_ offset: Int, _ count: Int) -> Int {
                Int(Self.eightDigits(base.loadUnaligned(fromByteOffset: offset, as: UInt64.self).littleEndian << UInt64(64 - 8 * count)))
            }
            return n <= 8 ? digits(start, n) : digits(start, 8) * Self.powersOfTen[n - 8] + digits(start + 8, n - 8)
        }
        var value = 0
        for c in bytes[start ..< start + n] {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(c &- 0x30))
            guard !o1, !o2 else { return nil }
            value = a
        }
        return value
    }

    private static let powersOfTen = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000]

    /// How many ASCII digits start at the cursor, eight bytes at a time: a byte is a digit when its high nibble
    /// is 3 and its low nibble is below 10.
    private func digitRun() -> Int {
        var end = pos
        if let base = bytes.baseAddress {
            while end + 8 <= bytes.count {
                let w = base.loadUnaligned(fromByteOffset: end, as: UInt64.self).littleEndian
                let other = ((w & 0xF0F0_F0F0_F0F0_F0F0) ^ 0x3030_3030_3030_3030)
                    | (((w & 0x0F0F_0F0F_0F0F_0F0F) &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0)
                let nonDigits = (((other & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F) | other) & 0x8080_8080_8080_8080
                if nonDigits != 0 { return end - pos + nonDigits.trailingZeroBitCount / 8 }
                end += 8
            }
        }
        while end < bytes.count, bytes[end] >= 0x30, bytes[end] <= 0x39 { end += 1 }
        return end - pos
    }

    /// Eight ASCII digits, the first in the lowest byte, to their value; zero bytes below them count as leading
    /// zeros (the multiply-and-shift method of simdjson's parse_eight_digits_unrolled).
    private static func eightDigits(_ word: UInt64) -> UInt64 {
        let pairs = ((word & 0x0F0F_0F0F_0F0F_0F0F) &* 2561) >> 8
        let quads = ((pairs & 0x00FF_00FF_00FF_00FF) &* 6_553_601) >> 16
        return ((quads & 0x0000_FFFF_0000_FFFF) &* 42_949_672_960_001) >> 32
    }

    /// A list of naturals, appended to `values`; false on anything else.
    mutating func naturals(into values: inout [Int]) -> Bool {
        guard take(UInt8(ascii: "[")) else { return false }
        skipWhitespace()
        if current == UInt8(ascii: "]") { pos += 1; return true }
        while true {
            guard let value = natural() else { return false }
            values.append(value)
            guard let closed = closes(UInt8(ascii: "]")) else { return false }
            if closed { return true }
        }
    }

    /// Any JSON value, checked by the strict parser (nesting counted from `depth`), for the rare members the
    /// fast readers do not handle themselves.
    mutating func strictValue(depth: Int) -> JSONValue? {
        skipWhitespace()
        var parser = JSONParser(bytes: bytes, maxDepth: 64)
        parser.pos = pos
        guard let value = try? parser.parseValue(depth: depth) else { return nil }
        pos = parser.pos
        return value
    }
}
