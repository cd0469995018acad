import Foundation
import MoESlimFamilies

/// Top-k selection exactly as transformers' routers make it, per `RoutingRule`.
struct Router {
    let rule: RoutingRule
    let experts: Int
    let topK: Int
    var groupScore: GroupScore = .sumOfTopTwo
    var selection: Selection = .routingRule
    /// EngineSpec.renormalizationEpsilon.
    var renormalizationEpsilon: Float?

    /// Scores, selected experts and combine weights for each token's logits.
    func route(_ logits: [Float], tokens: Int, correctionBias: [Float]?) -> (scores: [Float], selected: [Int32], weights: [Float]) {
        var scores = [Float](repeating: 0, count: tokens * experts)
        var selected = [Int32](repeating: 0, count: tokens * topK)
        var weights = [Float](repeating: 0, count: tokens * topK)
        for t in 0..<tokens {
            let (rowScores, chosen, w) = select(Array(logits[t * experts..<(t + 1) * experts]), correctionBias: correctionBias)
            for e in 0..<experts { scores[t * experts + e] = rowScores[e] }
            for slot in 0..<topK {
                selected[t * topK + slot] = Int32(chosen[slot])
                weights[t * topK + slot] = w[slot]
            }
        }
        return (scores, selected, weights)
    }

    /// One token: the router's per-expert scores (see RoutingRecord.scores), the chosen experts, their weights.
    private func select(_ row: [Float], correctionBias: [Float]?) -> (scores: [Float], chosen: [Int], weights: [Float]) {
        func scattered(_ chosen: [Int], _ w: [Float]) -> [Float] {
            var scores = [Float](repeating: 0, count: experts)
            for (slot, e) in chosen.enumerated() { scores[e] = w[slot] }
            return scores
        }
        func biasedAndGrouped(_ values: [Float]) -> [Float] {
            var choice = values
            if let correctionBias { for e in 0..<experts { choice[e] += correctionBias[e] } }
            if let groups = rule.groups, let keep = rule.topkGroups, groups > 1 {
                choice = Self.limitToGroups(choice, groups: groups, keep: keep, score: groupScore)
            }
            return choice
        }
        if case .sparseMixer(let eps) = selection {
            let (chosen, w) = Self.sparseMixer(row, jitterEps: eps)
            return (scattered(chosen, w), chosen, w)
        }
        let scale = Float(rule.scalingFactor)
        switch rule.scoring {
        case .softmax, .sigmoid:
            var probabilities = row
            if rule.scoring == .softmax {
                probabilities.withUnsafeMutableBufferPointer { Kernels.softmax($0) }
            } else {
                probabilities = row.map(Kernels.sigmoid)
            }
            let chosen = Self.topK(biasedAndGrouped(probabilities), k: topK)
            var w = chosen.map { probabilities[$0] }
            if rule.normalizeTopK {
                // DeepSeek-V3 and GLM add 1e-20 to the sigmoid routers' denominator; softmax routers do not.
                let sum = w.reduce(0, +) + (renormalizationEpsilon ?? (rule.scoring == .sigmoid ? 1e-20 : 0))
                w = w.map { $0 / sum }
            }
            return (probabilities, chosen, w.map { $0 * scale })
        case .softmaxAfterTopK:
            let chosen = Self.topK(row, k: topK)
            var w = chosen.map { row[$0] }
            w.withUnsafeMutableBufferPointer { Kernels.softmax($0) }
            return (scattered(chosen, w), chosen, w.map { $0 * scale })
        }
    }

    /// PhiMoE's two picks, as transformers' sparsemixer computes them outside training.
    static func sparseMixer(_ logits: [Float], jitterEps: Float) -> ([Int], [Float]) {
        var remaining = logits
        var chosen: [Int] = []
        var weights: [Float] = []
        for _ in 0..<2 {
            let best = topK(remaining, k: 1)[0]
            let top = remaining[best]
            var gates = remaining.indices.map { j in
                (top - logits[j]) / max(abs(logits[j]), top) > 2 * jitterEps ? -Float.infinity : remaining[j]
            }
            gates.withUnsafeMutableBufferPointer { Kernels.softmax($0) }
            chosen.append(best)
            weights.append(gates[best])
            remaining[best] = -.infinity
        }
        return (chosen, weights)
    }

    /// The k largest entries, largest first; equal values go to the lower index.
    static func topK(_ values: [Float], k: Int) -> [Int] {
        var taken = [Bool](repeating: false, count: values.count)
        var result: [Int] = []
        for _ in 0..<k {
            var best = -1
            for i in values.indices where !taken[i] && (best < 0 || values[i] > values[best]) { best = i }
            taken[best] = true
            result.append(best)
        }
        return result
    }

    /// Group-limited selection: rank groups, keep the best `keep` groups, and make every expert outside them
    /// unselectable.
    static func limitToGroups(_ choice: [Float], groups: Int, keep: Int, score: GroupScore) -> [Float] {
        let size = choice.count / groups
        let groupScores = (0..<groups).map { g in
            let members = Array(choice[g * size..<(g + 1) * size])
            switch score {
            case .sumOfTopTwo: return topK(members, k: min(2, size)).reduce(Float(0)) { $0 + members[$1] }
            case .maximum: return members.max() ?? 0
            }
        }
        let kept = Set(topK(groupScores, k: keep))
        return choice.indices.map { kept.contains($0 / size) ? choice[$0] : -.infinity }
    }
}
