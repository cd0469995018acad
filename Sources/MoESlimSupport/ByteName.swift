/// A name read from a file (a tensor, a shard, an adapter key, a counts or plan key) as a dictionary or set key
/// that is equal, hashed and ordered by its UTF-8 bytes, as Python's `str` and the reference libraries compare
/// names. A Swift String key compares by canonical equivalence: "é" and "e" + U+0301 would be one key there
/// and two tensors in safetensors, so two distinct names would silently become one.
public struct ByteName: Hashable, Comparable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let string: String

    public init(_ string: String) { self.string = string }

    public init(stringLiteral value: String) { string = value }

    public static func == (a: ByteName, b: ByteName) -> Bool { a.string.sameBytes(as: b.string) }

    public func hash(into hasher: inout Hasher) {
        var copy = string
        copy.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        hasher.combine(string.utf8.count)
    }

    public static func < (a: ByteName, b: ByteName) -> Bool { a.string.utf8Precedes(b.string) }

    public var description: String { string }
}

/// Byte-wise versions of the String operations that compare Characters. `hasPrefix`, `hasSuffix`,
/// `contains(Character)` and `split(separator:)` work on grapheme clusters under canonical equivalence, so
/// "/" followed by a combining mark is not a "/" to them and "e" + U+0301 does not start with "e"; for names
/// from files these byte forms are used instead.
extension String {
    public func sameBytes(as other: String) -> Bool {
        utf8.count == other.utf8.count && utf8.elementsEqual(other.utf8)
    }

    public func hasBytePrefix(_ prefix: String) -> Bool {
        utf8.count >= prefix.utf8.count && utf8.starts(with: prefix.utf8)
    }

    public func hasByteSuffix(_ suffix: String) -> Bool {
        utf8.count >= suffix.utf8.count && utf8.reversed().starts(with: suffix.utf8.reversed())
    }

    /// Whether any byte is this ASCII character, whatever follows it.
    public func containsByte(_ ascii: Unicode.Scalar) -> Bool {
        utf8.contains(UInt8(ascii: ascii))
    }

    /// Pieces between each occurrence of an ASCII separator byte. Cutting at an ASCII byte never splits a
    /// multi-byte character, so every piece is valid UTF-8 and the pieces rejoin to the same bytes.
    public func byteSplit(_ separator: Unicode.Scalar, omittingEmpty: Bool = false) -> [String] {
        utf8.split(separator: UInt8(ascii: separator), omittingEmptySubsequences: omittingEmpty)
            .map { String(decoding: $0, as: UTF8.self) }
    }

    /// The text after the first `count` bytes (a byte prefix already matched, so the cut is on a boundary).
    public func dropBytes(_ count: Int) -> String {
        String(decoding: utf8.dropFirst(count), as: UTF8.self)
    }

    /// The text without its last `count` bytes (a byte suffix already matched).
    public func dropLastBytes(_ count: Int) -> String {
        String(decoding: utf8.dropLast(count), as: UTF8.self)
    }
}

extension String {
    /// Every non-overlapping occurrence of `target`'s bytes, left to right, replaced by `replacement`.
    /// Foundation's `replacingOccurrences(of:with:)` matches canonically equivalent text too.
    public func replacingBytes(_ target: String, with replacement: String) -> String {
        let (bytes, pattern) = (Array(utf8), Array(target.utf8))
        guard !pattern.isEmpty, bytes.count >= pattern.count else { return self }
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if i + pattern.count <= bytes.count, bytes[i ..< i + pattern.count].elementsEqual(pattern) {
                out += replacement.utf8
                i += pattern.count
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    /// The child index of a module list in a dotted name: the digits between `prefix` and the next ".", written
    /// as `str(i)` writes them (no sign, no leading zero). `Int(_:)` would also take "+3", and Character-wise
    /// scanning does not see a "." that a combining mark follows.
    public func indexAfter(prefix: String) -> Int? {
        guard hasBytePrefix(prefix) else { return nil }
        let digits = utf8.dropFirst(prefix.utf8.count).prefix { $0 != UInt8(ascii: ".") }
        guard utf8.count > prefix.utf8.count + digits.count else { return nil }
        return String(decoding: digits, as: UTF8.self).plainIndex
    }

    /// The whole text as `str(i)` writes a non-negative Int: digits, no sign, no leading zero. A key such as
    /// "01" or "+1" would otherwise name the same layer as "1", and the later entry would silently win.
    public var plainIndex: Int? {
        guard let first = utf8.first, utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), first != 0x30 || utf8.count == 1 else { return nil }
        return Int(self)
    }
}
