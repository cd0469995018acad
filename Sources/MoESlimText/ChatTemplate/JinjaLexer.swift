/// Splits a template into text and tag tokens with the whitespace rules transformers renders with:
/// `trim_blocks` and `lstrip_blocks` on, `-` on a tag strips all whitespace on that side, and one trailing
/// newline of the template is dropped (Jinja's `keep_trailing_newline=False`).
struct JinjaLexer {
    enum Token: Equatable {
        case text(String)
        case openOutput, openBlock, close
        case name(String)
        case string(String)
        case int(Int)
        case float(Double)
        case op(String)
    }

    private let source: [UInt8]
    private var i = 0
    private(set) var tokens: [Token] = []

    static func tokenize(_ text: String) throws(ChatTemplateFailure) -> [Token] {
        var lexer = JinjaLexer(text)
        try lexer.run()
        return lexer.tokens
    }

    private init(_ text: String) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var it = Array(text.utf8)[...]
        while let b = it.popFirst() {
            if b == 0x0D {
                if it.first == 0x0A { it.removeFirst() }
                bytes.append(0x0A)
            } else {
                bytes.append(b)
            }
        }
        if bytes.last == 0x0A { bytes.removeLast() }
        source = bytes
    }

    private static let spaceBytes: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C]

    private mutating func run() throws(ChatTemplateFailure) {
        var textStart = 0
        var stripNextText = false
        var trimNextNewline = false
        while true {
            let tagStart = nextTag(from: i)
            var text = Array(source[textStart..<(tagStart ?? source.count)])
            var startsLine = textStart == 0 || source[textStart - 1] == 0x0A
            if trimNextNewline, text.first == 0x0A {
                text.removeFirst()
                startsLine = true
            }
            if stripNextText {
                let kept = Array(text.drop(while: Self.spaceBytes.contains))
                if kept.count < text.count, text[text.count - kept.count - 1] == 0x0A { startsLine = true }
                text = kept
            }
            guard let tagStart else {
                append(text)
                return
            }
            let kind = source[tagStart + 1]
            let marker = tagStart + 2 < source.count ? source[tagStart + 2] : 0
            if marker == 0x2D {  // '-'
                while let last = text.last, Self.spaceBytes.contains(last) { text.removeLast() }
            } else if kind != 0x7B && marker != 0x2B {  // lstrip_blocks: not for {{ and not for {%+
                let lineStart = (text.lastIndex(of: 0x0A).map { $0 + 1 }) ?? 0
                let atLineStart = lineStart > 0 || startsLine
                if atLineStart, text[lineStart...].allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                    text.removeSubrange(lineStart...)
                }
            }
            append(text)
            i = tagStart + 2 + (marker == 0x2D || marker == 0x2B ? 1 : 0)
            let rightStrip: Bool
            if kind == 0x23 {  // comment
                guard let end = find([0x23, 0x7D], from: i) else { throw ChatTemplateFailure("a {# comment is not closed") }
                rightStrip = end > i && source[end - 1] == 0x2D
                i = end + 2
                trimNextNewline = !rightStrip
            } else {
                tokens.append(kind == 0x7B ? .openOutput : .openBlock)
                rightStrip = try expressionTokens(closing: kind == 0x7B ? 0x7D : 0x25)
                tokens.append(.close)
                trimNextNewline = kind == 0x25 && !rightStrip
            }
            stripNextText = rightStrip
            textStart = i
        }
    }

    private mutating func append(_ text: [UInt8]) {
        if !text.isEmpty { tokens.append(.text(String(decoding: text, as: UTF8.self))) }
    }

    private func nextTag(from start: Int) -> Int? {
        var j = start
        while j + 1 < source.count {
            if source[j] == 0x7B, [0x7B, 0x25, 0x23].contains(source[j + 1]) { return j }
            j += 1
        }
        return nil
    }

    private func find(_ needle: [UInt8], from start: Int) -> Int? {
        var j = start
        while j + needle.count <= source.count {
            if source[j..<(j + needle.count)].elementsEqual(needle) { return j }
            j += 1
        }
        return nil
    }

    /// Reads expression tokens up to `}}` or `%}`; returns whether the tag ended with `-`.
    private mutating func expressionTokens(closing: UInt8) throws(ChatTemplateFailure) -> Bool {
        while true {
            while i < source.count, Self.spaceBytes.contains(source[i]) { i += 1 }
            guard i < source.count else { throw ChatTemplateFailure("a tag is not closed") }
            let b = source[i]
            if b == 0x2D, i + 2 < source.count, source[i + 1] == closing, source[i + 2] == 0x7D {
                i += 3
                return true
            }
            if b == closing, i + 1 < source.count, source[i + 1] == 0x7D {
                i += 2
                return false
            }
            if b == 0x27 || b == 0x22 {
                tokens.append(.string(try stringLiteral(quote: b)))
            } else if isDigit(b) {
                var j = i
                while j < source.count, isDigit(source[j]) || source[j] == 0x5F { j += 1 }
                if j + 1 < source.count, source[j] == 0x2E, isDigit(source[j + 1]) {
                    j += 1
                    while j < source.count, isDigit(source[j]) { j += 1 }
                    guard let f = Double(String(decoding: source[i..<j], as: UTF8.self)) else {
                        throw ChatTemplateFailure("bad number")
                    }
                    tokens.append(.float(f))
                } else {
                    let digits = source[i..<j].filter { $0 != 0x5F }
                    guard let n = Int(String(decoding: digits, as: UTF8.self)) else {
                        throw ChatTemplateFailure("integer literal out of range")
                    }
                    tokens.append(.int(n))
                }
                i = j
            } else if isNameStart(b) {
                var j = i
                while j < source.count, isNameStart(source[j]) || isDigit(source[j]) { j += 1 }
                tokens.append(.name(String(decoding: source[i..<j], as: UTF8.self)))
                i = j
            } else {
                let two = i + 1 < source.count ? String(decoding: source[i...(i + 1)], as: UTF8.self) : ""
                if ["==", "!=", "<=", ">=", "//", "**"].contains(two) {
                    tokens.append(.op(two))
                    i += 2
                } else if Array("+-*/%~<>()[]{},.:|=".utf8).contains(b) {
                    tokens.append(.op(String(UnicodeScalar(b))))
                    i += 1
                } else {
                    throw ChatTemplateFailure("unexpected character '\(String(decoding: [b], as: UTF8.self))' in a tag")
                }
            }
        }
    }

    private func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    private func isNameStart(_ b: UInt8) -> Bool { (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F }

    /// Python's unicode-escape rules, which Jinja applies to string literals.
    private mutating func stringLiteral(quote: UInt8) throws(ChatTemplateFailure) -> String {
        var out: [UInt8] = []
        i += 1
        while i < source.count, source[i] != quote {
            var b = source[i]
            if b == 0x5C, i + 1 < source.count {
                i += 1
                b = source[i]
                switch b {
                case 0x6E: out.append(0x0A)
                case 0x74: out.append(0x09)
                case 0x72: out.append(0x0D)
                case 0x30: out.append(0x00)
                case 0x5C, 0x27, 0x22: out.append(b)
                case 0x0A: break
                case 0x78, 0x75, 0x55:
                    let width = b == 0x78 ? 2 : b == 0x75 ? 4 : 8
                    guard i + width < source.count,
                        let code = UInt32(String(decoding: source[(i + 1)...(i + width)], as: UTF8.self), radix: 16),
                        let scalar = Unicode.Scalar(code)
                    else { throw ChatTemplateFailure("bad escape in a string literal") }
                    out.append(contentsOf: String(Character(scalar)).utf8)
                    i += width
                default: out.append(contentsOf: [0x5C, b])
                }
            } else {
                out.append(b)
            }
            i += 1
        }
        guard i < source.count else { throw ChatTemplateFailure("a string literal is not closed") }
        i += 1
        return String(decoding: out, as: UTF8.self)
    }
}

/// Why a template could not be parsed or rendered; the caller names the template file.
struct ChatTemplateFailure: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
