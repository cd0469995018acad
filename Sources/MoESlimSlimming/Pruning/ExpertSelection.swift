import MoESlimFormats
import MoESlimSupport
import MoESlimFamilies

/// The SEER-MoE heavy-hitters choice (paper §3.2): keep the experts the router uses most, per layer or in one
/// global ranking, by a `Criterion` (or by a later criterion: REAP, EAN, AIMER, random). Ties go to the lower expert id (then the lower layer), so plans are reproducible.
public struct ExpertSelection: Sendable {
    public enum Strategy: String, CaseIterable, Sendable {
        case layer, global
    }

    public enum Amount: Sendable, Equatable {
        case keep(Int)
        case sparsity(Double)
    }

    public var criterion: Criterion
    public var strategy: Strategy
    public var amount: Amount
    public var topK: Int?
    /// The seed of `--criterion random`.
    public var seed: UInt64
    /// Experts kept whatever the criterion says (`--keep-super-experts`); found from the counts' max_abs_output.
    public var superExperts: SuperExperts.Rule?

    public init(criterion: Criterion, strategy: Strategy, amount: Amount, topK: Int?, seed: UInt64 = 0, superExperts: SuperExperts.Rule? = nil) {
        self.criterion = criterion
        self.strategy = strategy
        self.amount = amount
        self.topK = topK
        self.seed = seed
        self.superExperts = superExperts
    }

    func keepCount(experts: Int) -> Int {
        switch amount {
        case .keep(let n): return n
        case .sparsity(let s): return experts - Int((s * Double(experts)).rounded())
        }
    }

    public func plan(model: ModelDescription, counts: ExpertCounts, countsPath: String) throws(MoESlimError) -> PruningPlan {
        try plan(model: model, counts: (counts, countsPath), weights: nil)
    }

    /// The plan from whatever the criterion ranks by: the counts (also needed for super experts), the seed, or
    /// the expert weights (a safetensors checkpoint or a GGUF model).
    public func plan(model: ModelDescription, counts: (counts: ExpertCounts, path: String)?, weights: (any ExpertWeights)?) throws(MoESlimError) -> PruningPlan {
        if let counts { try counts.counts.check(against: model, path: counts.path) }
        var scoreTable: [Int: [Double]]
        switch criterion.source {
        case .counts:
            guard let counts else { throw MoESlimError(.invalidArgument, "--criterion \(criterion.name) ranks by a counts file; give --counts") }
            scoreTable = [:]
            for layer in model.moeLayers {
                scoreTable[layer.layer] = try criterion.scores(try counts.counts.layer(for: layer, path: counts.path), path: counts.path)
            }
        case .random:
            scoreTable = RandomScores(seed: seed).table(model)
        case .weights:
            guard let weights else { throw MoESlimError(.invalidArgument, "--criterion \(criterion.name) ranks by the expert weights; give the checkpoint") }
            scoreTable = try AimerScores.table(weights, model: model).mapValues(criterion.oriented)
        }
        if let superExperts {
            guard let counts else { throw MoESlimError(.invalidArgument, "--keep-super-experts finds them in a counts file; give --counts") }
            for found in try SuperExperts(counts: counts.counts, rule: superExperts, path: counts.path).experts {
                scoreTable[found.layer]?[found.expert] = .infinity
            }
        }
        let countsPath = counts?.path ?? "--criterion \(criterion.name)"
        let groups = max(model.routing.groups ?? 1, 1)
        let plan: PruningPlan
        switch strategy {
        case .layer:
            var kept: [Int: [Int]] = [:]
            for layer in model.moeLayers {
                let n = keepCount(experts: layer.numExperts)
                guard n >= 1, n <= layer.numExperts else {
                    throw MoESlimError(.invalidPlan, "cannot keep \(n) of \(layer.numExperts) experts in layer \(layer.layer)")
                }
                if layer.zeroComputeExperts > 0 {
                    kept[layer.layer] = Self.bestWithZeroCompute(n, of: scoreTable[layer.layer]!, layer: layer)
                } else {
                    kept[layer.layer] = try Self.best(n, of: scoreTable[layer.layer]!, groups: groups, layer: layer.layer)
                }
            }
            plan = PruningPlan(kept: kept, topK: topK)
        case .global:
            guard groups == 1 else {
                throw MoESlimError(.invalidPlan, "global pruning would leave groups of unequal size, which group-limited routing (n_group \(groups)) cannot load; use --strategy layer")
            }
            if let key = model.zeroComputeKey {
                throw MoESlimError(.invalidPlan, "global pruning would keep different numbers of zero-compute experts per layer, which one \(key) for all layers cannot say; use --strategy layer")
            }
            plan = try globalPlan(model: model, scores: scoreTable)
        }
        try plan.validate(against: model, source: countsPath)
        return plan
    }

    /// The n best experts, chosen inside each group when routing is group-limited so every group stays equal.
    static func best(_ n: Int, of scores: [Double], groups: Int, layer: Int) throws(MoESlimError) -> [Int] {
        guard n % groups == 0 else {
            throw MoESlimError(.invalidPlan, "layer \(layer): keeping \(n) experts cannot be split evenly over \(groups) routing groups")
        }
        let size = scores.count / groups
        var kept: [Int] = []
        for g in 0..<groups {
            let ids = Array((g * size)..<((g + 1) * size))
            kept += ids.sorted { (scores[$0], -$0) > (scores[$1], -$1) }.prefix(n / groups)
        }
        return kept.sorted()
    }

    /// The n best experts of a layer with zero-compute experts, in the same proportion as the layer has them
    /// (rounded, at least one with weights): the split depends only on n and the layer's counts, so every layer
    /// of a model keeps the same number of each, as its config's single count of each requires. The criterion
    /// chooses which inside each part.
    static func bestWithZeroCompute(_ n: Int, of scores: [Double], layer: MoELayer) -> [Int] {
        let zero = min(max(Int((Double(n) * Double(layer.zeroComputeExperts) / Double(layer.numExperts)).rounded()), 0), n - 1)
        func best(_ count: Int, in ids: Range<Int>) -> [Int] {
            Array(ids.sorted { (scores[$0], -$0) > (scores[$1], -$1) }.prefix(count))
        }
        return (best(n - zero, in: 0..<layer.weightedExperts) + best(zero, in: layer.weightedExperts..<layer.numExperts)).sorted()
    }

    /// One ranking over all layers, after a floor of the top-k best experts in every layer so none is emptied.
    private func globalPlan(model: ModelDescription, scores: [Int: [Double]]) throws(MoESlimError) -> PruningPlan {
        let total = model.moeLayers.reduce(0) { $0 + $1.numExperts }
        let target: Int
        switch amount {
        case .keep(let n): target = n * model.moeLayers.count
        case .sparsity(let s): target = total - Int((s * Double(total)).rounded())
        }
        var kept: [Int: Set<Int>] = [:]
        var reserved = 0
        for layer in model.moeLayers {
            let floor = topK ?? layer.topK
            let top = try Self.best(min(floor, layer.numExperts), of: scores[layer.layer]!, groups: 1, layer: layer.layer)
            kept[layer.layer] = Set(top)
            reserved += top.count
        }
        guard target >= reserved else {
            throw MoESlimError(.invalidPlan, "keeping \(target) experts in all is fewer than top-k in every layer (\(reserved))")
        }
        var ranking: [(layer: Int, expert: Int, score: Double)] = []
        for layer in model.moeLayers {
            for (e, s) in scores[layer.layer]!.enumerated() where !kept[layer.layer]!.contains(e) {
                ranking.append((layer.layer, e, s))
            }
        }
        ranking.sort { a, b in
            if a.score != b.score { return a.score > b.score }
            if a.layer != b.layer { return a.layer < b.layer }
            return a.expert < b.expert
        }
        for item in ranking.prefix(target - reserved) { kept[item.layer]!.insert(item.expert) }
        return PruningPlan(kept: kept.mapValues { $0.sorted() }, topK: topK)
    }
}
