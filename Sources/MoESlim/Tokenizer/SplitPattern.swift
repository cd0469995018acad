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
    func matches(in bytes: [UInt8]) -> [Range<Int>] {
        switch self {
        case .literal(let needle):
            guard !needle.isEmpty, bytes.count >= needle.count else { return [] }
            var result: [Range<Int>] = []
            var i = 0
            let first = needle[0]
            while i + needle.count <= bytes.count {
                if bytes[i] == first && bytes[i..<i + needle.count].elementsEqual(needle) {
                    result.append(i..<i + needle.count)
                    i += needle.count
                } else {
                    i += 1
                }
            }
            return result
        case .regex(let regex):
            let decoded = DecodedScalars(bytes)
            return decoded.scalars.withUnsafeBufferPointer { regex.matches(in: $0) }
                .map { decoded.offsets[$0.lowerBound]..<decoded.offsets[$0.upperBound] }
        }
    }
}

func quoted(_ text: String) -> String {
    "\"" + text.unicodeScalars.map { $0.escaped(asASCII: false) }.joined() + "\""
}
