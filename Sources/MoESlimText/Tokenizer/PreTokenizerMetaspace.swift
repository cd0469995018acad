/// SentencePiece-style spaces: every ' ' becomes the replacement character (usually U+2581), a replacement is
/// prepended according to `prepend_scheme`, and with `split` the text is cut before each replacement.
struct MetaspacePreTokenizer {
    enum PrependScheme: String { case always, first, never }

    let replacement: [UInt8]
    let prependScheme: PrependScheme
    let split: Bool

    init(_ node: JSONCNode) throws(TokenizerLoadError) {
        guard let replacement = node["replacement"]?.string, replacement.unicodeScalars.count == 1 else {
            throw TokenizerLoadError("Metaspace 'replacement' must be one character")
        }
        self.replacement = Array(replacement.utf8)
        if let scheme = node["prepend_scheme"]?.string {
            guard let parsed = PrependScheme(rawValue: scheme) else {
                throw TokenizerLoadError("Metaspace: unsupported prepend_scheme \(quoted(scheme))")
            }
            prependScheme = parsed
        } else {
            // Files written before prepend_scheme existed say add_prefix_space instead.
            prependScheme = node["add_prefix_space"]?.bool ?? true ? .always : .never
        }
        split = node["split"]?.bool ?? true
    }

    func apply(_ piece: TextPiece, into out: inout [TextPiece]) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(piece.bytes.count + replacement.count)
        for b in piece.bytes {
            if b == 0x20 { bytes.append(contentsOf: replacement) } else { bytes.append(b) }
        }
        let startsWithReplacement = bytes.starts(with: replacement)
        switch prependScheme {
        case .always where !startsWithReplacement, .first where !startsWithReplacement && piece.atOrigin:
            bytes.insert(contentsOf: replacement, at: 0)
        default:
            break
        }
        let replaced = TextPiece(bytes: bytes, token: nil, atOrigin: piece.atOrigin)
        if split {
            let matches = SplitPattern.literalMatches(of: replacement, in: bytes)
            SplitBehavior.mergedWithNext.split(replaced, SplitBehavior.covering(matches, count: bytes.count), into: &out)
        } else if !bytes.isEmpty {
            out.append(replaced)
        }
    }
}
