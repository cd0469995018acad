/// What happens to the matched delimiters of a split, with `tokenizers`' exact folding rules
/// (`NormalizedString::split`).
enum SplitBehavior: String {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"

    static func parse(_ name: String?, context: String) throws(TokenizerLoadError) -> SplitBehavior {
        guard let name, let behavior = SplitBehavior(rawValue: name) else {
            throw TokenizerLoadError("\(context): unsupported behavior \(name.map(quoted) ?? "(missing)")")
        }
        return behavior
    }

    /// Matches plus the gaps between them, covering the whole piece, each flagged as match or not.
    static func covering(_ matches: [Range<Int>], count: Int) -> [(Range<Int>, Bool)] {
        if count == 0 { return [(0..<0, false)] }
        var out: [(Range<Int>, Bool)] = []
        var previous = 0
        for m in matches {
            if previous != m.lowerBound { out.append((previous..<m.lowerBound, false)) }
            out.append((m, true))
            previous = m.upperBound
        }
        if previous != count { out.append((previous..<count, false)) }
        return out
    }

    /// Splits on every scalar that satisfies `predicate`, each one its own match (Rust's `Fn(char) -> bool`
    /// pattern).
    static func split(
        _ piece: TextPiece, where predicate: (UInt32) -> Bool, behavior: SplitBehavior, into out: inout [TextPiece]
    ) {
        let decoded = DecodedScalars(piece.bytes)
        var matches: [Range<Int>] = []
        for (i, v) in decoded.scalars.enumerated() where predicate(v) {
            matches.append(decoded.offsets[i]..<decoded.offsets[i + 1])
        }
        behavior.split(piece, covering(matches, count: piece.bytes.count), into: &out)
    }

    func split(_ piece: TextPiece, _ matches: [(Range<Int>, Bool)], into out: inout [TextPiece]) {
        var spans: [(range: Range<Int>, remove: Bool)] = []
        var previousMatch = false
        switch self {
        case .isolated:
            spans = matches.map { ($0.0, false) }
        case .removed:
            spans = matches.map { ($0.0, $0.1) }
        case .contiguous:
            for (range, isMatch) in matches {
                if isMatch == previousMatch, let last = spans.last {
                    spans[spans.count - 1].range = last.range.lowerBound..<range.upperBound
                } else {
                    spans.append((range, false))
                }
                previousMatch = isMatch
            }
        case .mergedWithPrevious:
            for (range, isMatch) in matches {
                if isMatch && !previousMatch, let last = spans.last {
                    spans[spans.count - 1].range = last.range.lowerBound..<range.upperBound
                } else {
                    spans.append((range, false))
                }
                previousMatch = isMatch
            }
        case .mergedWithNext:
            for (range, isMatch) in matches.reversed() {
                if isMatch && !previousMatch, let last = spans.last {
                    spans[spans.count - 1].range = range.lowerBound..<last.range.upperBound
                } else {
                    spans.append((range, false))
                }
                previousMatch = isMatch
            }
            spans.reverse()
        }
        for span in spans where !span.remove && !span.range.isEmpty {
            out.append(TextPiece(
                bytes: Array(piece.bytes[span.range]), token: nil,
                atOrigin: piece.atOrigin && span.range.lowerBound == 0))
        }
    }
}
