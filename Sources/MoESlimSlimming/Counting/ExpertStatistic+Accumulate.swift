import Foundation
import MoESlimEngine

/// One token's routing in one layer, with what several statistics share computed once: the softmax of the raw
/// logits and its entropy.
struct RoutedToken {
    let record: RoutingRecord
    /// Row of the token in the record.
    let row: Int
    /// softmax(raw logits), one per expert.
    let probabilities: [Double]
    /// Entropy of `probabilities` in nats.
    let entropy: Double

    var experts: Int { record.experts }
    var slots: Range<Int> { 0..<record.topK }
    func score(_ expert: Int) -> Double { Double(record.scores[row * record.experts + expert]) }
    func selected(_ slot: Int) -> Int { Int(record.selected[row * record.topK + slot]) }
    func weight(_ slot: Int) -> Double { Double(record.weights[row * record.topK + slot]) }
    func outputNorm(_ slot: Int) -> Double { Double(record.outputNorms[row * record.topK + slot]) }
}

extension ExpertStatistic {
    /// Adds this statistic's terms for one token to `sums`, in the statistic's integer units: whole tokens for a
    /// `wholeCount`, units of 2⁻⁶⁴ for a `fixedPoint` (each term rounded once, so addition order cannot matter).
    @inline(__always) func accumulate(_ token: RoutedToken, into sums: inout [Int128]) {
        switch self {
        case .hard:
            for s in token.slots { sums[token.selected(s)] += 1 }
        case .soft:
            for j in 0..<token.experts { sums[j] += ExactSums.units(token.score(j)) }
        case .softSoftmax:
            for j in 0..<token.experts { sums[j] += ExactSums.units(token.probabilities[j]) }
        case .saliency:
            for s in token.slots { sums[token.selected(s)] += ExactSums.units(token.weight(s) * token.outputNorm(s)) }
        case .entropy:
            sums[0] += ExactSums.units(token.entropy)
        }
    }
}
