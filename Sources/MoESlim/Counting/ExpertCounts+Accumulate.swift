import Foundation

extension ExpertCounts.Layer {
    /// Adds one chunk's routing of this layer. Every per-token term goes into the exact fixed-point sums, so
    /// shard runs merged later equal one run exactly; the Double fields are derived from them at the end.
    mutating func add(_ record: RoutingRecord) {
        let e = record.experts, k = record.topK
        tokens += record.tokens
        var sums = exact ?? ExactSums(approximating: self)
        var probabilities = [Double](repeating: 0, count: e)
        for t in 0..<record.tokens {
            var maxLogit = -Double.infinity
            for j in 0..<e { maxLogit = max(maxLogit, Double(record.logits[t * e + j])) }
            var total = 0.0
            for j in 0..<e {
                probabilities[j] = exp(Double(record.logits[t * e + j]) - maxLogit)
                total += probabilities[j]
            }
            var entropy = 0.0
            for j in 0..<e {
                let p = probabilities[j] / total
                sums.softSoftmax[j] += ExactSums.units(p)
                sums.soft[j] += ExactSums.units(Double(record.scores[t * e + j]))
                if p > 0 { entropy -= p * log(p) }
            }
            sums.entropy += ExactSums.units(entropy)
            for s in 0..<k {
                let j = Int(record.selected[t * k + s])
                hard[j] += 1
                sums.saliency[j] += ExactSums.units(Double(record.weights[t * k + s]) * Double(record.outputNorms[t * k + s]))
            }
        }
        exact = sums
        refreshFromExact()
    }
}

extension ExpertCounts {
    /// Adds one chunk's routing of one layer to the totals and, when the tokens belong to a group, to it too.
    public mutating func add(_ record: RoutingRecord, group: String? = nil) {
        guard let index = layers.firstIndex(where: { $0.layer == record.layer }) else { return }
        layers[index].add(record)
        if let group {
            var perGroup = groups ?? [:]
            var entries = perGroup[ByteName(group)] ?? layers.map { Layer(layer: $0.layer, experts: $0.hard.count) }
            entries[index].add(record)
            perGroup[ByteName(group)] = entries
            groups = perGroup
        }
    }
}
