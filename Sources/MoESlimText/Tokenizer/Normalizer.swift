/// The `normalizer` section. Each piece between non-normalized added tokens is normalized on its own, as
/// `tokenizers` does, so a Prepend normalizer also prefixes text that follows a special token.
indirect enum Normalizer {
    case sequence([Normalizer])
    case prepend([UInt8])
    case replace(SplitPattern, [UInt8])
    case unicode(UnicodeNormalizationForm)
    case lowercase
    case strip(left: Bool, right: Bool)
    case stripAccents

    static func parse(_ node: JSONCNode) throws(TokenizerLoadError) -> Normalizer? {
        if node.isNull { return nil }
        guard let type = node["type"]?.string else { throw TokenizerLoadError("normalizer without a type") }
        switch type {
        case "Sequence":
            guard let items = node["normalizers"]?.array else {
                throw TokenizerLoadError("normalizer Sequence without 'normalizers'")
            }
            var parsed: [Normalizer] = []
            for item in items { if let n = try parse(item) { parsed.append(n) } }
            return .sequence(parsed)
        case "Prepend":
            guard let text = node["prepend"]?.bytes else { throw TokenizerLoadError("Prepend without 'prepend'") }
            return .prepend(text)
        case "Replace":
            guard let content = node["content"]?.bytes else { throw TokenizerLoadError("Replace without 'content'") }
            return .replace(try SplitPattern.parse(node["pattern"], context: "normalizer Replace"), content)
        case "NFC": return .unicode(.nfc)
        case "NFD": return .unicode(.nfd)
        case "NFKC": return .unicode(.nfkc)
        case "NFKD": return .unicode(.nfkd)
        case "Lowercase": return .lowercase
        case "Strip":
            return .strip(left: node["strip_left"]?.bool ?? true, right: node["strip_right"]?.bool ?? true)
        case "StripAccents": return .stripAccents
        default:
            throw TokenizerLoadError("unsupported normalizer '\(type)'")
        }
    }

    /// How much larger than the record normalizing may make it, all pieces together: Replace and Prepend
    /// multiply a text (a Replace of "a" by a long content, chained) without end otherwise.
    static func growthLimit(record: Int) -> Int {
        let (times4, overflow) = record.multipliedReportingOverflow(by: 4)
        return overflow ? Int.max : times4 &+ min(16 << 20, Int.max - times4)
    }

    /// `budget` is what the record's normalized pieces may still add up to; each output is taken from it.
    func apply(_ bytes: [UInt8], budget: inout Int, limit: Int) throws(TokenizerLimitExceeded) -> [UInt8] {
        let out = try applyWithin(bytes, budget: budget, limit: limit)
        budget -= out.count
        return out
    }

    /// Sizes are checked before a growing output is built, so a bomb is refused without being made.
    private func applyWithin(_ bytes: [UInt8], budget: Int, limit: Int) throws(TokenizerLimitExceeded) -> [UInt8] {
        func check(_ size: Int) throws(TokenizerLimitExceeded) {
            if size > budget { throw TokenizerLimitExceeded(limit: .growth(bytes: limit)) }
        }
        switch self {
        case .sequence(let items):
            var out = bytes
            for item in items { out = try item.applyWithin(out, budget: budget, limit: limit) }
            return out
        case .prepend(let text):
            try check(bytes.count + text.count)
            return bytes.isEmpty ? bytes : text + bytes
        case .replace(let pattern, let content):
            let matches = try pattern.matches(in: bytes)
            if matches.isEmpty { return bytes }
            let (grown, overflow) = matches.count.multipliedReportingOverflow(by: content.count)
            try check(overflow ? Int.max : bytes.count + grown)
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count)
            var last = 0
            for m in matches {
                out.append(contentsOf: bytes[last..<m.lowerBound])
                out.append(contentsOf: content)
                last = m.upperBound
            }
            out.append(contentsOf: bytes[last...])
            return out
        case .unicode(let form):
            return form.apply(bytes)
        case .lowercase:
            return UnicodeCaseMapping.lowercased(bytes)
        case .strip(let left, let right):
            let decoded = DecodedScalars(bytes)
            var lo = 0
            var hi = decoded.scalars.count
            if left { while lo < hi && UnicodeScalarClass.isWhitespace(decoded.scalars[lo]) { lo += 1 } }
            if right { while hi > lo && UnicodeScalarClass.isWhitespace(decoded.scalars[hi - 1]) { hi -= 1 } }
            return Array(bytes[decoded.offsets[lo]..<decoded.offsets[hi]])
        case .stripAccents:
            var out: [UInt8] = []
            for v in DecodedScalars(bytes).scalars where UnicodeScalarClass.category(v) != 5 {
                UTF8Bytes.append(v, to: &out)
            }
            return out
        }
    }
}
