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
    func expertOutputNorm(_ slot: Int) -> Double { Double(record.expertOutputNorms[row * record.topK + slot]) }
    func expertOutputMaximum(_ slot: Int) -> Double { Double(record.expertOutputMaxima[row * record.topK + slot]) }
    /// Component `j` of the slot's output sketch; the record has them only when the outputs were measured.
    var hasSketches: Bool { !record.expertOutputSketches.isEmpty }
    func expertOutputSketch(_ slot: Int, _ j: Int) -> Double {
        Double(record.expertOutputSketches[(row * record.topK + slot) * OutputSketch.width + j])
    }
}

extension ExpertStatistic {
    /// Adds this statistic's terms for one token to `sums`, in the statistic's integer units: whole tokens for a
    /// `wholeCount`, units of 2⁻⁶⁴ for a `fixedPoint` (each term rounded once, so addition order cannot matter).
    /// A `maximum` statistic keeps the largest term instead of adding.
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
        case .ean:
            for s in token.slots { sums[token.selected(s)] += ExactSums.units(token.expertOutputNorm(s)) }
        case .maxAbsOutput:
            for s in token.slots {
                let e = token.selected(s)
                sums[e] = max(sums[e], ExactSums.units(token.expertOutputMaximum(s)))
            }
        case .outputSketch:
            guard token.hasSketches else { return }
            let width = OutputSketch.width
            for s in token.slots {
                let base = token.selected(s) * width
                for j in 0..<width { sums[base + j] += ExactSums.signedUnits(token.expertOutputSketch(s, j)) }
            }
        }
    }
}
