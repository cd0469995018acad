import Foundation
import MoESlimSupport
import MoESlimEngine

extension ExpertCounts.Layer {
    /// Adds one chunk's routing of this layer. Every statistic sums its per-token terms as integers (whole tokens,
    /// or the exact fixed-point units), so shard runs merged later equal one run exactly; the Doubles of the
    /// fixed-point statistics are derived from the exact sums at the end.
    mutating func add(_ record: RoutingRecord) {
        let e = record.experts
        tokens += record.tokens
        let statistics = ExpertStatistic.allCases
        var chunk = PerStatistic<Int128> { Array(repeating: 0, count: $0.width(experts: e)) }
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
                probabilities[j] = p
                if p > 0 { entropy -= p * log(p) }
            }
            let token = RoutedToken(record: record, row: t, probabilities: probabilities, entropy: entropy)
            for statistic in statistics { statistic.accumulate(token, into: &chunk[statistic]) }
        }
        var exactSums = exact ?? ExactSums(approximating: self)
        for statistic in statistics {
            for j in chunk[statistic].indices {
                switch statistic.representation {
                case .wholeCount: sums[statistic][j] += Double(chunk[statistic][j])
                case .fixedPoint: exactSums.units[statistic][j] += chunk[statistic][j]
                }
            }
        }
        exact = exactSums
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
            var entries = perGroup[ByteName(group)] ?? layers.map { Layer(layer: $0.layer, experts: $0.experts) }
            entries[index].add(record)
            perGroup[ByteName(group)] = entries
            groups = perGroup
        }
    }
}
