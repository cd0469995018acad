struct RegexSyntaxError: Error, CustomStringConvertible {
    let description: String
}

/// Parses the Oniguruma syntax found in tokenizer.json split patterns. Constructs outside that subset
/// (backreferences, lookbehind, word boundaries, inline flags without a group, POSIX brackets) are refused by
/// name rather than approximated, since an approximation would silently change token ids.
struct RegexParser {
    /// Oniguruma's ONIG_MAX_REPEAT_NUM; and a bound on nested groups far below Oniguruma's 4096, since this
    /// parser and the matcher recurse per level (real patterns nest two or three deep).
    static let maxRepeat = 100_000
    static let maxGroupDepth = 256

    private let scalars: [UInt32]
    private var pos = 0
    private var groupDepth = 0

    static func parse(_ pattern: String) throws(RegexSyntaxError) -> RegexNode {
        var parser = RegexParser(scalars: pattern.unicodeScalars.map(\.value))
        let node = try parser.parseAlternation(caseInsensitive: false)
        guard parser.pos == parser.scalars.count else { throw parser.fail("unbalanced ')'") }
        return node
    }

    private init(scalars: [UInt32]) { self.scalars = scalars }

    private var current: UInt32? { pos < scalars.count ? scalars[pos] : nil }

    private func fail(_ reason: String) -> RegexSyntaxError {
        RegexSyntaxError(description: "\(reason) at position \(pos)")
    }

    private mutating func eat(_ c: Character) -> Bool {
        guard current == c.unicodeScalars.first!.value else { return false }
        pos += 1
        return true
    }

    private mutating func parseAlternation(caseInsensitive: Bool) throws(RegexSyntaxError) -> RegexNode {
        var branches = [try parseSequence(caseInsensitive: caseInsensitive)]
        while eat("|") { branches.append(try parseSequence(caseInsensitive: caseInsensitive)) }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    private mutating func parseSequence(caseInsensitive: Bool) throws(RegexSyntaxError) -> RegexNode {
        var nodes: [RegexNode] = []
        while let c = current, c != 0x7C, c != 0x29 {
            let atom = try parseAtom(caseInsensitive: caseInsensitive)
            nodes.append(try parseQuantifier(atom))
        }
        return nodes.count == 1 ? nodes[0] : .sequence(nodes)
    }

    private mutating func parseQuantifier(_ atom: RegexNode) throws(RegexSyntaxError) -> RegexNode {
        var lo = 0
        var hi = Int.max
        switch current {
        case 0x2A: pos += 1
        case 0x2B: pos += 1; lo = 1
        case 0x3F: pos += 1; hi = 1
        case 0x7B:
            guard let (a, b, length) = interval(at: pos) else { return atom }
            guard a <= Self.maxRepeat, b == Int.max || b <= Self.maxRepeat else {
                throw fail("too big number for repeat range (the limit is \(Self.maxRepeat))")
            }
            guard a <= b else { throw fail("upper bound smaller than lower bound in repeat range") }
            pos += length
            lo = a
            hi = b
        default: return atom
        }
        if case .lookahead = atom { throw fail("quantified lookahead") }
        var mode = RegexNode.Mode.greedy
        if eat("?") { mode = .lazy } else if eat("+") { mode = .possessive }
        return .repetition(atom, min: lo, max: hi, mode)
    }

    /// `{n}`, `{n,}`, `{n,m}`, `{,m}`; anything else is a literal brace, as in Oniguruma.
    private func interval(at start: Int) -> (Int, Int, Int)? {
        var i = start + 1
        func number() -> Int? {
            var value: Int?
            while i < scalars.count, scalars[i] >= 0x30, scalars[i] <= 0x39 {
                // Saturates past the repeat limit, which the caller refuses, instead of overflowing.
                value = min((value ?? 0) * 10 + Int(scalars[i] - 0x30), RegexParser.maxRepeat + 1)
                i += 1
            }
            return value
        }
        let lo = number()
        var hi = lo
        if i < scalars.count, scalars[i] == 0x2C {
            i += 1
            hi = number() ?? Int.max
            if lo == nil && hi == Int.max { return nil }
        }
        guard i < scalars.count, scalars[i] == 0x7D, lo != nil || hi != nil else { return nil }
        return (lo ?? 0, hi ?? Int.max, i + 1 - start)
    }

    private mutating func parseAtom(caseInsensitive: Bool) throws(RegexSyntaxError) -> RegexNode {
        let c = current!
        pos += 1
        switch c {
        case 0x28: return try parseGroup(caseInsensitive: caseInsensitive)
        case 0x5B: return .set(try parseClass(caseInsensitive: caseInsensitive))
        case 0x2E: return .set(ScalarSet([(.notNewline, false)], negated: false))
        case 0x5E: return .lineStart
        case 0x24: return .lineEnd
        case 0x5C:
            if eat("A") { return .textStart }
            if eat("z") { return .textEnd }
            let item = try parseEscape(inClass: false)
            return .set(ScalarSet(Self.fold(item, caseInsensitive), negated: false))
        case 0x2A, 0x2B, 0x3F: throw fail("quantifier without a target")
        default:
            return .set(ScalarSet(Self.fold((.range(c, c), false), caseInsensitive), negated: false))
        }
    }

    private mutating func parseGroup(caseInsensitive: Bool) throws(RegexSyntaxError) -> RegexNode {
        groupDepth += 1
        defer { groupDepth -= 1 }
        guard groupDepth <= Self.maxGroupDepth else { throw fail("groups nested deeper than \(Self.maxGroupDepth)") }
        var insensitive = caseInsensitive
        var lookahead: Bool?
        if eat("?") {
            if eat(":") {
            } else if eat("=") {
                lookahead = false
            } else if eat("!") {
                lookahead = true
            } else if current == 0x3C, pos + 1 < scalars.count, scalars[pos + 1] == 0x3D || scalars[pos + 1] == 0x21 {
                throw fail("lookbehind is not supported")
            } else if eat("<") {
                while let c = current, c != 0x3E { pos += 1 }
                guard eat(">") else { throw fail("unterminated group name") }
            } else {
                var on = true
                var sawFlag = false
                while let c = current, c != 0x3A {
                    switch c {
                    case 0x69: insensitive = on
                    case 0x2D: on = false
                    case 0x29: throw fail("inline flags outside a group '(?flags:...)' are not supported")
                    default: throw fail("unsupported group flag '\(Character(Unicode.Scalar(c)!))'")
                    }
                    sawFlag = true
                    pos += 1
                }
                guard sawFlag, eat(":") else { throw fail("unsupported group syntax") }
            }
        }
        let body = try parseAlternation(caseInsensitive: insensitive)
        guard eat(")") else { throw fail("missing ')'") }
        if let negative = lookahead { return .lookahead(body, negative: negative) }
        return body
    }

    private mutating func parseClass(caseInsensitive: Bool) throws(RegexSyntaxError) -> ScalarSet {
        let negated = eat("^")
        var items: [(item: ScalarSet.Item, negated: Bool)] = []
        var first = true
        while true {
            guard let c = current else { throw fail("missing ']'") }
            if c == 0x5D && !first { pos += 1; break }
            first = false
            if c == 0x5B { throw fail("nested or POSIX bracket classes are not supported") }
            if c == 0x26, pos + 1 < scalars.count, scalars[pos + 1] == 0x26 {
                throw fail("class intersection '&&' is not supported")
            }
            pos += 1
            var item: (item: ScalarSet.Item, negated: Bool) = (.range(c, c), false)
            if c == 0x5C { item = try parseEscape(inClass: true) }
            if case .range(let lo, let single) = item.item, lo == single, !item.negated, current == 0x2D,
                pos + 1 < scalars.count, scalars[pos + 1] != 0x5D
            {
                pos += 1
                var hiScalar = current!
                pos += 1
                if hiScalar == 0x5C {
                    guard case .range(let h, let same) = try parseEscape(inClass: true).item, h == same else {
                        throw fail("invalid range end")
                    }
                    hiScalar = h
                }
                guard hiScalar >= lo else { throw fail("empty range") }
                item = (.range(lo, hiScalar), false)
            }
            items.append(contentsOf: Self.fold(item, caseInsensitive))
        }
        return ScalarSet(items, negated: negated)
    }

    private mutating func parseEscape(inClass: Bool) throws(RegexSyntaxError) -> (item: ScalarSet.Item, negated: Bool) {
        guard let c = current else { throw fail("trailing backslash") }
        pos += 1
        let literal: UInt32
        switch Character(Unicode.Scalar(c)!) {
        case "s": return (.whitespace, false)
        case "S": return (.whitespace, true)
        case "d": return (.categories(UnicodeScalarClass.decimalNumber), false)
        case "D": return (.categories(UnicodeScalarClass.decimalNumber), true)
        case "w": return (.word, false)
        case "W": return (.word, true)
        case "p", "P":
            var negated = c == 0x50
            guard eat("{") else { throw fail("expected '{' after \\p") }
            if eat("^") { negated.toggle() }
            var name = ""
            while let n = current, n != 0x7D { name.unicodeScalars.append(Unicode.Scalar(n)!); pos += 1 }
            guard eat("}") else { throw fail("unterminated \\p{") }
            guard let mask = UnicodeScalarClass.mask(forProperty: name) else {
                throw fail("unsupported property \\p{\(name)}")
            }
            return (.categories(mask), negated)
        case "n": literal = 0x0A
        case "r": literal = 0x0D
        case "t": literal = 0x09
        case "f": literal = 0x0C
        case "v": literal = 0x0B
        case "a": literal = 0x07
        case "e": literal = 0x1B
        case "b" where inClass: literal = 0x08
        case "x", "u":
            literal = try parseHexEscape(braced: eat("{"), digits: c == 0x75 ? 4 : 2)
        case "0": literal = 0
        default:
            let ch = Character(Unicode.Scalar(c)!)
            if ch.isLetter || ch.isNumber { throw fail("unsupported escape '\\\(ch)'") }
            literal = c
        }
        return (.range(literal, literal), false)
    }

    private mutating func parseHexEscape(braced: Bool, digits: Int) throws(RegexSyntaxError) -> UInt32 {
        var value: UInt32 = 0
        var count = 0
        while let c = current, let d = Character(Unicode.Scalar(c)!).hexDigitValue, braced || count < digits {
            value = value * 16 + UInt32(d)
            count += 1
            pos += 1
            guard value <= 0x10FFFF else { throw fail("too big code point in hex escape") }
        }
        if braced { guard eat("}") else { throw fail("unterminated \\x{") } }
        guard count > 0, Unicode.Scalar(value) != nil else { throw fail("invalid hex escape") }
        return value
    }

    /// Case-insensitive literals and small ranges expand to their simple case variants plus the Unicode case
    /// folds Oniguruma applies to ASCII letters (long s, Kelvin sign, Angstrom sign).
    private static func fold(
        _ item: (item: ScalarSet.Item, negated: Bool), _ caseInsensitive: Bool
    ) -> [(item: ScalarSet.Item, negated: Bool)] {
        guard caseInsensitive, case .range(let lo, let hi) = item.item, hi - lo < 0x400, !item.negated else {
            return [item]
        }
        var result = [item]
        for v in lo...hi {
            guard let scalar = Unicode.Scalar(v) else { continue }
            var variants: [UInt32] = []
            for mapped in [scalar.properties.lowercaseMapping, scalar.properties.uppercaseMapping] {
                let s = mapped.unicodeScalars
                if s.count == 1 { variants.append(s.first!.value) }
            }
            let extra: [UInt32: [UInt32]] = [
                0x73: [0x17F], 0x53: [0x17F], 0x17F: [0x73, 0x53], 0x6B: [0x212A], 0x4B: [0x212A],
                0x212A: [0x6B, 0x4B], 0xE5: [0x212B], 0xC5: [0x212B], 0x212B: [0xE5, 0xC5],
            ]
            variants += extra[v] ?? []
            for w in variants where w != v { result.append((.range(w, w), false)) }
        }
        return result
    }
}
