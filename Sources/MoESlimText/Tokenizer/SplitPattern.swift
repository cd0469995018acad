/// The `pattern` of a Split pre-tokenizer or Replace normalizer: `{"String": ...}` is matched literally,
/// `{"Regex": ...}` with Oniguruma semantics.
enum SplitPattern {
    case literal([UInt8])
    case regex(TokenizerRegex)

    static func parse(_ node: JSONCNode?, context: String) throws(TokenizerLoadError) -> SplitPattern {
        if let text = node?["String"]?.bytes { return .literal(text) }
        if let text = node?["Regex"]?.string {
            do {
                return .regex(try TokenizerRegex(text))
            } catch {
                throw TokenizerLoadError("\(context): regex \(quoted(text)): \(error)")
            }
        }
        throw TokenizerLoadError("\(context): pattern must be {\"String\": ...} or {\"Regex\": ...}")
    }

    /// Byte ranges of the matches, non-overlapping, left to right.
    func matches(in bytes: [UInt8]) throws(TokenizerLimitExceeded) -> [Range<Int>] {
        switch self {
        case .literal(let needle):
            return Self.literalMatches(of: needle, in: bytes)
        case .regex(let regex):
            let decoded = DecodedScalars(bytes)
            let found = try decoded.scalars.withUnsafeBufferPointer { (text) throws(TokenizerLimitExceeded) in try regex.matches(in: text) }
            return found.map { decoded.offsets[$0.lowerBound]..<decoded.offsets[$0.upperBound] }
        }
    }

    /// Non-overlapping occurrences, left to right, by Knuth-Morris-Pratt: linear in the text whatever the
    /// needle (a long needle of repeated bytes made a byte-by-byte compare quadratic).
    static func literalMatches(of needle: [UInt8], in bytes: [UInt8]) -> [Range<Int>] {
        guard !needle.isEmpty, bytes.count >= needle.count else { return [] }
        var border = [Int](repeating: 0, count: needle.count)
        var k = 0
        for i in 1..<needle.count {
            while k > 0 && needle[i] != needle[k] { k = border[k - 1] }
            if needle[i] == needle[k] { k += 1 }
            border[i] = k
        }
        var result: [Range<Int>] = []
        var matched = 0
        for (i, b) in bytes.enumerated() {
            while matched > 0 && b != needle[matched] { matched = border[matched - 1] }
            if b == needle[matched] { matched += 1 }
            if matched == needle.count {
                result.append(i + 1 - needle.count..<i + 1)
                matched = 0
            }
        }
        return result
    }
}

func quoted(_ text: String) -> String {
    "\"" + text.unicodeScalars.map { $0.escaped(asASCII: false) }.joined() + "\""
}
