/// A set of scalars matched by one regex position (a literal, `.`, `\s`, `\p{L}`, or a bracket class).
/// The Basic Multilingual Plane is precomputed as a bitmap because split patterns test every input scalar.
final class ScalarSet: Sendable {
    enum Item: Sendable {
        case range(UInt32, UInt32)
        case categories(UInt32)
        case whitespace
        case word
        case notNewline
    }

    private let items: [(item: Item, negated: Bool)]
    private let negated: Bool
    private let bitmap: [UInt64]

    init(_ items: [(item: Item, negated: Bool)], negated: Bool) {
        self.items = items
        self.negated = negated
        var bitmap = [UInt64](repeating: 0, count: 0x10000 / 64)
        for v in 0..<UInt32(0x10000) where Self.evaluate(items, negated, v) {
            bitmap[Int(v >> 6)] |= 1 << UInt64(v & 63)
        }
        self.bitmap = bitmap
    }

    @inline(__always)
    func contains(_ v: UInt32) -> Bool {
        if v < 0x10000 { return bitmap[Int(v >> 6)] & (1 << UInt64(v & 63)) != 0 }
        return Self.evaluate(items, negated, v)
    }

    private static func evaluate(_ items: [(item: Item, negated: Bool)], _ negated: Bool, _ v: UInt32) -> Bool {
        var hit = false
        for (item, itemNegated) in items {
            let m: Bool
            switch item {
            case .range(let lo, let hi): m = v >= lo && v <= hi
            case .categories(let mask): m = UnicodeScalarClass.isIn(v, mask)
            case .whitespace: m = UnicodeScalarClass.isWhitespace(v)
            case .word: m = UnicodeScalarClass.isWord(v)
            case .notNewline: m = v != 0x0A
            }
            if m != itemNegated { hit = true; break }
        }
        return hit != negated
    }
}

/// The regex subset that tokenizer split patterns use, with Oniguruma's leftmost-first (backtracking) semantics.
indirect enum RegexNode: Sendable {
    enum Mode: Sendable { case greedy, lazy, possessive }

    case set(ScalarSet)
    case sequence([RegexNode])
    case alternation([RegexNode])
    case repetition(RegexNode, min: Int, max: Int, Mode)
    case lookahead(RegexNode, negative: Bool)
    case lineStart
    case lineEnd
    case textStart
    case textEnd
}
