/// The `pre_tokenizer` section: turns each normalized piece into the words the model sees. Pieces that are
/// added tokens pass through untouched; empty pieces are dropped, as `PreTokenizedString::split` does.
indirect enum PreTokenizer {
    case sequence([PreTokenizer])
    case split(SplitPattern, SplitBehavior, invert: Bool)
    case digits(individual: Bool)
    case byteLevel(ByteLevelPreTokenizer)
    case metaspace(MetaspacePreTokenizer)
    case whitespaceSplit

    static func parse(_ node: JSONCNode) throws(TokenizerLoadError) -> PreTokenizer? {
        if node.isNull { return nil }
        guard let type = node["type"]?.string else { throw TokenizerLoadError("pre_tokenizer without a type") }
        switch type {
        case "Sequence":
            guard let items = node["pretokenizers"]?.array else {
                throw TokenizerLoadError("pre_tokenizer Sequence without 'pretokenizers'")
            }
            var parsed: [PreTokenizer] = []
            for item in items { if let p = try parse(item) { parsed.append(p) } }
            return .sequence(parsed)
        case "Split":
            let behavior = try SplitBehavior.parse(node["behavior"]?.string, context: "pre_tokenizer Split")
            return .split(
                try SplitPattern.parse(node["pattern"], context: "pre_tokenizer Split"), behavior,
                invert: node["invert"]?.bool ?? false)
        case "Digits":
            return .digits(individual: node["individual_digits"]?.bool ?? false)
        case "ByteLevel":
            return .byteLevel(try ByteLevelPreTokenizer(node))
        case "Metaspace":
            return .metaspace(try MetaspacePreTokenizer(node))
        case "WhitespaceSplit":
            return .whitespaceSplit
        default:
            throw TokenizerLoadError("unsupported pre_tokenizer '\(type)'")
        }
    }

    func apply(_ pieces: [TextPiece]) throws(TokenizerLimitExceeded) -> [TextPiece] {
        if case .sequence(let items) = self {
            var out = pieces
            for item in items { out = try item.apply(out) }
            return out
        }
        var out: [TextPiece] = []
        out.reserveCapacity(pieces.count * 4)
        for piece in pieces {
            if piece.token != nil {
                out.append(piece)
                continue
            }
            switch self {
            case .sequence: break
            case .split(let pattern, let behavior, let invert):
                let matches = SplitBehavior.covering(try pattern.matches(in: piece.bytes), count: piece.bytes.count)
                behavior.split(piece, invert ? matches.map { ($0.0, !$0.1) } : matches, into: &out)
            case .digits(let individual):
                SplitBehavior.split(piece, where: { UnicodeScalarClass.isIn($0, UnicodeScalarClass.numbers) },
                                    behavior: individual ? .isolated : .contiguous, into: &out)
            case .byteLevel(let byteLevel):
                try byteLevel.apply(piece, into: &out)
            case .metaspace(let metaspace):
                metaspace.apply(piece, into: &out)
            case .whitespaceSplit:
                SplitBehavior.split(piece, where: UnicodeScalarClass.isWhitespace, behavior: .removed, into: &out)
            }
        }
        return out
    }
}
