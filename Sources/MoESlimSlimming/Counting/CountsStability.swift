import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies

/// Split-half stability of a ranking (formats/counts.md, "Stability"): the counts of two disjoint halves of the
/// calibration data (`calibrate --shard 0/2` and `--shard 1/2`) rank each layer's experts by a criterion, and
/// the closer the two rankings, the less the choice of experts depends on which tokens were seen.
public struct CountsStability: Sendable {
    public struct Layer: Sendable, Equatable {
        public var layer: Int
        /// Spearman's ρ of the two halves' scores (average ranks for ties; 1 when both halves are constant).
        public var spearman: Double
        /// Kendall's τ-b of the two halves' scores.
        public var kendall: Double
        /// For each kept count in `keeps`: |A ∩ B| / |A ∪ B| of the experts each half keeps (Jaccard).
        public var keptAgreement: [Double]
        /// Experts each half would keep, per entry of `keeps`.
        public var keeps: [Int]
    }

    public var layers: [Layer]
    public var sparsities: [Double]

    /// Compares two counts files of the same model; `sparsities` are the fractions removed whose kept sets are
    /// compared (kept = experts − round(s × experts), as `prune --sparsity` keeps).
    public init(_ a: ExpertCounts, pathA: String, _ b: ExpertCounts, pathB: String, criterion: ExpertSelection.Criterion, sparsities: [Double]) throws(MoESlimError) {
        guard a.fingerprint.sameBytes(as: b.fingerprint) else {
            throw MoESlimError(.invalidCounts, "counts were made on another model than \(pathA) (fingerprint \(b.fingerprint), not \(a.fingerprint)); split halves must come from the same model", path: pathB)
        }
        guard criterion.needsCounts else {
            throw MoESlimError(.invalidArgument, "--stability compares rankings made from counts; \(criterion.name) does not rank by counts")
        }
        self.sparsities = sparsities
        layers = try zip(a.layers, b.layers).map { (la, lb) throws(MoESlimError) in
            let sa = try criterion.scores(la, path: pathA), sb = try criterion.scores(lb, path: pathB)
            let keeps = sparsities.map { la.experts - Int(($0 * Double(la.experts)).rounded()) }
            return Layer(layer: la.layer, spearman: Self.spearman(sa, sb), kendall: Self.kendall(sa, sb),
                         keptAgreement: keeps.map { Self.jaccard(Self.top($0, sa), Self.top($0, sb)) }, keeps: keeps)
        }
    }

    /// The n highest scores' indices; ties go to the lower index, as ExpertSelection keeps.
    static func top(_ n: Int, _ scores: [Double]) -> Set<Int> {
        Set(scores.indices.sorted { (scores[$0], -$0) > (scores[$1], -$1) }.prefix(max(n, 0)))
    }

    static func jaccard(_ a: Set<Int>, _ b: Set<Int>) -> Double {
        let union = a.union(b).count
        return union == 0 ? 1 : Double(a.intersection(b).count) / Double(union)
    }

    /// Ranks 1…n, tied values sharing the mean of their ranks.
    static func ranks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var out = [Double](repeating: 0, count: values.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && values[order[j + 1]] == values[order[i]] { j += 1 }
            let rank = Double(i + j) / 2 + 1
            for k in i...j { out[order[k]] = rank }
            i = j + 1
        }
        return out
    }

    /// Pearson's correlation of the ranks (scipy.stats.spearmanr); 1 when both are constant, 0 when one is.
    static func spearman(_ a: [Double], _ b: [Double]) -> Double {
        pearson(ranks(a), ranks(b))
    }

    static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        let n = Double(x.count)
        guard n > 0 else { return .nan }
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for i in x.indices {
            sxy += (x[i] - mx) * (y[i] - my)
            sxx += (x[i] - mx) * (x[i] - mx)
            syy += (y[i] - my) * (y[i] - my)
        }
        if sxx == 0 && syy == 0 { return 1 }
        guard sxx > 0, syy > 0 else { return 0 }
        return sxy / (sxx * syy).squareRoot()
    }

    /// Kendall's τ-b (scipy.stats.kendalltau's default): (concordant − discordant) / √((n₀ − n₁)(n₀ − n₂)),
    /// n₁ and n₂ the pairs tied in a and in b; 1 when both are constant, 0 when one is.
    static func kendall(_ a: [Double], _ b: [Double]) -> Double {
        var concordant = 0.0, discordant = 0.0, tiedA = 0.0, tiedB = 0.0, pairs = 0.0
        for i in a.indices {
            for j in (i + 1)..<a.count {
                pairs += 1
                let da = a[i] - a[j], db = b[i] - b[j]
                if da == 0 { tiedA += 1 }
                if db == 0 { tiedB += 1 }
                if da * db > 0 { concordant += 1 } else if da * db < 0 { discordant += 1 }
            }
        }
        if tiedA == pairs && tiedB == pairs { return 1 }
        let denominator = ((pairs - tiedA) * (pairs - tiedB)).squareRoot()
        return denominator == 0 ? 0 : (concordant - discordant) / denominator
    }
}
