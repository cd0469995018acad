import Foundation
import MoESlimSupport
import MoESlimEngine

extension ExpertCounts.Layer {
    /// Adds one chunk's routing of this layer. Every statistic sums its per-token terms as integers (whole tokens,
    /// or the exact fixed-point units), so shard runs merged later equal one run exactly; the Doubles of the
    /// fixed-point statistics are derived from the exact sums at the end.
    /// `statistics`: all of them, except when bench/statistics_bench.sh times hard counts alone.
    mutating func add(_ record: RoutingRecord, statistics: [ExpertStatistic] = ExpertStatistic.allCases) {
        let e = record.experts
        tokens += record.tokens
        var chunk = PerStatistic<Int128> { Array(repeating: 0, count: $0.width(experts: e)) }
        var probabilities = [Double](repeating: 0, count: e)
        let needsSoftmax = statistics.contains { $0 == .softSoftmax || $0 == .entropy }
        for t in 0..<record.tokens {
            guard needsSoftmax else {
                let token = RoutedToken(record: record, row: t, probabilities: probabilities, entropy: 0)
                for statistic in statistics { statistic.accumulate(token, into: &chunk[statistic]) }
                continue
            }
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
                case .wholeCount: sums[statistic][j] = statistic.merged(sums[statistic][j], Double(chunk[statistic][j]))
                case .fixedPoint: exactSums.units[statistic][j] = statistic.merged(exactSums.units[statistic][j], chunk[statistic][j])
                }
            }
        }
        exact = exactSums
        refreshFromExact()
    }
}

extension ExpertCounts {
    /// Adds one chunk's routing of one layer to the totals and, when the tokens belong to a group, to it too.
    public mutating func add(_ record: RoutingRecord, group: String? = nil, statistics: [ExpertStatistic] = ExpertStatistic.allCases) {
        guard let index = layers.firstIndex(where: { $0.layer == record.layer }) else { return }
        layers[index].add(record, statistics: statistics)
        if let group {
            var perGroup = groups ?? [:]
            var entries = perGroup[ByteName(group)] ?? layers.map { Layer(layer: $0.layer, experts: $0.experts) }
            entries[index].add(record, statistics: statistics)
            perGroup[ByteName(group)] = entries
            groups = perGroup
        }
    }
}
