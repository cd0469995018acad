/// A compiled split pattern. Matching is backtracking over Unicode scalars, trying alternatives in order, which
/// is what Oniguruma (the engine `tokenizers` uses) does; a DFA would pick different matches for patterns such
/// as `\s+(?!\S)|\s+`.
struct TokenizerRegex: Sendable {
    let pattern: String
    private let root: RegexNode

    init(_ pattern: String) throws(RegexSyntaxError) {
        self.pattern = pattern
        self.root = try RegexParser.parse(pattern)
    }

    /// Non-overlapping matches as scalar ranges, left to right, like onig's `find_iter`: after an empty match the
    /// search moves one scalar on, and an empty match right where the previous match ended is skipped.
    /// A pattern that backtracks without end, or deeper than the stack holds, on this text is refused
    /// (RegexLimits) instead of hanging or overflowing the stack.
    func matches(in text: UnsafeBufferPointer<UInt32>) throws(TokenizerLimitExceeded) -> [Range<Int>] {
        let run = RegexRun(text: text)
        var result: [Range<Int>] = []
        var start = 0
        var lastEnd = -1
        while start <= text.count {
            var end = -1
            let matched = run.match(root, start, { e in end = e; return true })
            if let exceeded = run.budget.exceeded { throw TokenizerLimitExceeded(pattern: pattern, limit: exceeded) }
            if matched {
                if end == start && start == lastEnd {
                    start += 1
                    continue
                }
                result.append(start..<end)
                lastEnd = end
                start = end > start ? end : start + 1
            } else {
                start += 1
            }
        }
        return result
    }
}

/// Bounds on one search, which the recursive backtracking matcher needs and Oniguruma's heap stack does not:
/// steps (calls, plus scalars scanned by a repeated class) grow with the text, so a catastrophic pattern such
/// as `(a+)+$` stops in about a second instead of running for ages, and nesting is capped well inside an 8 MiB
/// stack (debug and AddressSanitizer builds included), so `(?:ab|a)*` over a long text is refused instead of
/// crashing.
enum RegexLimits {
    static let baseSteps = 10_000_000
    static let stepsPerScalar = 64
    static let depth = 1_000
}

/// Why a text was given up: a search that passed RegexLimits (naming the pattern, which comes from
/// tokenizer.json), or normalizers that would grow the text past `bytes`.
struct TokenizerLimitExceeded: Error, CustomStringConvertible {
    enum Limit { case steps, depth, growth(bytes: Int) }
    var pattern = ""
    let limit: Limit

    var description: String {
        switch limit {
        case .growth(let bytes):
            return "the tokenizer's normalizers would make this text larger than \(bytes) bytes (4 times the record plus 16 MiB)"
        case .steps:
            return "tokenizer regex \(quoted(pattern)) backtracks more than \(RegexLimits.baseSteps) + \(RegexLimits.stepsPerScalar) steps per character on this text"
        case .depth:
            return "tokenizer regex \(quoted(pattern)) nests deeper than \(RegexLimits.depth) on this text"
        }
    }
}

/// One search over one text. Continuations are non-escaping closures, so backtracking needs no allocation.
private struct RegexRun {
    final class Budget {
        var steps: Int
        var depth = 0
        var exceeded: TokenizerLimitExceeded.Limit?
        init(steps: Int) { self.steps = steps }
    }

    let text: UnsafeBufferPointer<UInt32>
    let budget: Budget

    init(text: UnsafeBufferPointer<UInt32>) {
        self.text = text
        let perScalar = text.count.multipliedReportingOverflow(by: RegexLimits.stepsPerScalar)
        budget = Budget(steps: perScalar.overflow ? Int.max : RegexLimits.baseSteps &+ min(perScalar.partialValue, Int.max - RegexLimits.baseSteps))
    }

    /// False once a limit is passed, so the search unwinds at once.
    private func spend(_ steps: Int) -> Bool {
        if budget.exceeded != nil { return false }
        budget.steps -= steps
        if budget.steps < 0 { budget.exceeded = .steps }
        return budget.exceeded == nil
    }

    func match(_ node: RegexNode, _ i: Int, _ k: (Int) -> Bool) -> Bool {
        guard spend(1) else { return false }
        budget.depth += 1
        defer { budget.depth -= 1 }
        if budget.depth > RegexLimits.depth {
            budget.exceeded = .depth
            return false
        }
        switch node {
        case .set(let set):
            return i < text.count && set.contains(text[i]) && k(i + 1)
        case .sequence(let nodes):
            return matchSequence(nodes, 0, i, k)
        case .alternation(let branches):
            for branch in branches where match(branch, i, k) { return true }
            return false
        case .repetition(let sub, let lo, let hi, let mode):
            if case .set(let set) = sub { return repeatSet(set, lo, hi, mode, i, k) }
            return repeatNode(sub, lo, hi, mode, 0, i, k)
        case .lookahead(let sub, let negative):
            return match(sub, i, { _ in true }) != negative && k(i)
        case .lineStart:
            return (i == 0 || text[i - 1] == 0x0A) && k(i)
        case .lineEnd:
            return (i == text.count || text[i] == 0x0A) && k(i)
        case .textStart:
            return i == 0 && k(i)
        case .textEnd:
            return i == text.count && k(i)
        }
    }

    private func matchSequence(_ nodes: [RegexNode], _ index: Int, _ i: Int, _ k: (Int) -> Bool) -> Bool {
        if budget.exceeded != nil { return false }
        if index == nodes.count { return k(i) }
        if index == nodes.count - 1 { return match(nodes[index], i, k) }
        return match(nodes[index], i) { j in matchSequence(nodes, index + 1, j, k) }
    }

    /// Runs of one scalar class are counted in a loop and backtracked by index, keeping recursion shallow on long
    /// whitespace or letter runs.
    private func repeatSet(
        _ set: ScalarSet, _ lo: Int, _ hi: Int, _ mode: RegexNode.Mode, _ i: Int, _ k: (Int) -> Bool
    ) -> Bool {
        var n = 0
        while n < hi && i + n < text.count && set.contains(text[i + n]) { n += 1 }
        guard spend(n), n >= lo else { return false }
        switch mode {
        case .greedy:
            var c = n
            while c >= lo && budget.exceeded == nil {
                if k(i + c) { return true }
                c -= 1
            }
            return false
        case .lazy:
            var c = lo
            while c <= n && budget.exceeded == nil {
                if k(i + c) { return true }
                c += 1
            }
            return false
        case .possessive:
            return k(i + n)
        }
    }

    private func repeatNode(
        _ sub: RegexNode, _ lo: Int, _ hi: Int, _ mode: RegexNode.Mode, _ count: Int, _ i: Int,
        _ k: (Int) -> Bool
    ) -> Bool {
        if budget.exceeded != nil { return false }
        switch mode {
        case .greedy:
            if count < hi && match(sub, i, { j in (j != i || count < lo) && repeatNode(sub, lo, hi, mode, count + 1, j, k) }) {
                return true
            }
            return count >= lo && k(i)
        case .lazy:
            if count >= lo && k(i) { return true }
            return count < hi && match(sub, i) { j in (j != i || count < lo) && repeatNode(sub, lo, hi, mode, count + 1, j, k) }
        case .possessive:
            var position = i
            var c = 0
            while c < hi {
                var end = -1
                guard match(sub, position, { e in end = e; return true }), end != position else { break }
                position = end
                c += 1
            }
            return c >= lo && k(position)
        }
    }
}
