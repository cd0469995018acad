import MoESlimText

/// Perplexity of one model and, against a base model on the same tokens, the KL divergence of its next-token
/// distribution from the base's and how often both pick the same top-1 token. Sums, so shards add up.
public struct NextTokenMetrics: Sendable, Equatable {
    public var tokens = 0
    public var negativeLogLikelihood = 0.0
    public var comparedTokens = 0
    public var klSum = 0.0
    public var top1Agreements = 0

    public init() {}

    public var perplexity: Double { tokens == 0 ? .nan : _exp(negativeLogLikelihood / Double(tokens)) }
    public var meanNLL: Double { tokens == 0 ? .nan : negativeLogLikelihood / Double(tokens) }
    public var kl: Double { comparedTokens == 0 ? .nan : klSum / Double(comparedTokens) }
    public var top1Agreement: Double { comparedTokens == 0 ? .nan : Double(top1Agreements) / Double(comparedTokens) }

    /// Position t predicts token t+1; the last position predicts nothing.
    public mutating func add(logits: [Float], vocab: Int, sequence: [Int32]) {
        for t in 0..<max(sequence.count - 1, 0) {
            let row = logits[(t * vocab)..<((t + 1) * vocab)]
            negativeLogLikelihood += LogSoftmax.logSumExp(row) - Double(row[t * vocab + Int(sequence[t + 1])])
            tokens += 1
        }
    }

    /// KL(base ‖ other) = Σ p_base (log p_base − log p_other) at every position that predicts a next token.
    public mutating func compare(base: [Float], other: [Float], vocab: Int, sequence: [Int32]) {
        for t in 0..<max(sequence.count - 1, 0) {
            let range = (t * vocab)..<((t + 1) * vocab)
            let p = LogSoftmax.row(base[range])
            let q = LogSoftmax.row(other[range])
            var kl = 0.0
            var bestP = 0
            var bestQ = 0
            for v in 0..<vocab {
                if p[v] > -.infinity { kl += _exp(p[v]) * (p[v] - q[v]) }
                if p[v] > p[bestP] { bestP = v }
                if q[v] > q[bestQ] { bestQ = v }
            }
            klSum += kl
            comparedTokens += 1
            if bestP == bestQ { top1Agreements += 1 }
        }
    }

    public static func + (a: NextTokenMetrics, b: NextTokenMetrics) -> NextTokenMetrics {
        var out = a
        out.tokens += b.tokens
        out.negativeLogLikelihood += b.negativeLogLikelihood
        out.comparedTokens += b.comparedTokens
        out.klSum += b.klSum
        out.top1Agreements += b.top1Agreements
        return out
    }
}
