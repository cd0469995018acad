/// GPT-2's byte-level pre-tokenizer: optional prefix space, the GPT-2 split regex, then every byte mapped to a
/// printable stand-in character so the BPE vocabulary never needs raw bytes.
struct ByteLevelPreTokenizer {
    let addPrefixSpace: Bool
    let useRegex: Bool

    static let gpt2Pattern = try! TokenizerRegex(
        #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#)

    /// UTF-8 of the stand-in character for each byte (`bytes_char` in `tokenizers`).
    static let byteChars: [[UInt8]] = {
        var bs = Array(UInt32(0x21)...0x7E) + Array(UInt32(0xA1)...0xAC) + Array(UInt32(0xAE)...0xFF)
        var cs = bs
        var n: UInt32 = 0
        for b in UInt32(0)...255 where !bs.contains(b) {
            bs.append(b)
            cs.append(256 + n)
            n += 1
        }
        var table = [[UInt8]](repeating: [], count: 256)
        for (b, c) in zip(bs, cs) { UTF8Bytes.append(c, to: &table[Int(b)]) }
        return table
    }()

    init(_ node: JSONCNode) throws(TokenizerLoadError) {
        addPrefixSpace = node["add_prefix_space"]?.bool ?? true
        useRegex = node["use_regex"]?.bool ?? true
    }

    func apply(_ piece: TextPiece, into out: inout [TextPiece]) throws(TokenizerLimitExceeded) {
        var piece = piece
        if addPrefixSpace && piece.bytes.first != 0x20 { piece.bytes.insert(0x20, at: 0) }
        var split: [TextPiece] = []
        if useRegex {
            let matches = try Self.gpt2Pattern.matchesCovering(piece.bytes)
            SplitBehavior.isolated.split(piece, matches, into: &split)
        } else if !piece.bytes.isEmpty {
            split = [piece]
        }
        for var p in split {
            p.bytes = Self.mapBytes(p.bytes)
            out.append(p)
        }
    }

    static func mapBytes(_ bytes: [UInt8]) -> [UInt8] {
        var mapped: [UInt8] = []
        mapped.reserveCapacity(bytes.count * 2)
        for b in bytes { mapped.append(contentsOf: byteChars[Int(b)]) }
        return mapped
    }
}

extension TokenizerRegex {
    func matchesCovering(_ bytes: [UInt8]) throws(TokenizerLimitExceeded) -> [(Range<Int>, Bool)] {
        SplitBehavior.covering(try SplitPattern.regex(self).matches(in: bytes), count: bytes.count)
    }
}
