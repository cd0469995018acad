import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies

/// How `plan search` explores budgets (formats/plan.md "Budgets").
public enum BudgetSearchMethod: String, CaseIterable, Sendable {
    case greedy, evolutionary
}

/// Per-layer budgets by measured quality (`plan search`, formats/plan.md "Budgets"): starting from the whole
/// model, remove one expert at a time, each time from the layer where removing its lowest-ranked kept expert
/// raises the measured KL against the unpruned model least, until `keepTotal` experts remain. Within a layer the
/// criterion decides which experts go, as `prune --counts` does; the search only decides how many.
public struct BudgetSearch: Sendable {
    public let model: ModelDescription
    /// Each MoE layer's experts, best first (criterion score, ties to the lower id).
    public let ranking: [Int: [Int]]
    public let keepTotal: Int
    public let topK: Int?

    public init(model: ModelDescription, counts: ExpertCounts, countsPath: String, criterion: ExpertSelection.Criterion,
                keepTotal: Int, topK: Int?) throws(MoESlimError) {
        try counts.check(against: model, path: countsPath)
        guard criterion.needsCounts else {
            throw MoESlimError(.invalidArgument, "plan search ranks experts within a layer by counts; \(criterion.name) does not rank by counts")
        }
        if let groups = model.routing.groups, groups > 1 {
            throw MoESlimError(.invalidPlan, "plan search keeps different numbers of experts per layer, which group-limited routing (n_group \(groups)) cannot load")
        }
        // Every plan the search measures routes --top-k experts per token in every layer, so a layer with fewer
        // (a model pruned per layer) would route to experts it does not have; prune refuses such plans too.
        if let topK, let short = model.moeLayers.first(where: { $0.numExperts < topK }) {
            throw MoESlimError(.invalidArgument, "--top-k \(topK) is more than the \(short.numExperts) experts of MoE layer \(short.layer)")
        }
        var ranking: [Int: [Int]] = [:]
        for layer in model.moeLayers {
            guard let c = counts.layer(layer.layer), c.experts == layer.numExperts else {
                throw MoESlimError(.invalidCounts, "no counts for MoE layer \(layer.layer) with \(layer.numExperts) experts", path: countsPath)
            }
            let scores = try criterion.scores(c, path: countsPath)
            ranking[layer.layer] = scores.indices.sorted { (scores[$0], -$0) > (scores[$1], -$1) }
        }
        let total = model.moeLayers.reduce(0) { $0 + $1.numExperts }
        let floor = model.moeLayers.reduce(0) { $0 + min(topK ?? $1.topK, $1.numExperts) }
        guard keepTotal <= total else {
            throw MoESlimError(.invalidArgument, "--keep-total \(keepTotal) is more than the model's \(total) routed experts")
        }
        guard keepTotal >= floor else {
            throw MoESlimError(.invalidArgument, "--keep-total \(keepTotal) is fewer than top-k experts in every MoE layer (\(floor) in all)")
        }
        self.model = model
        self.ranking = ranking
        self.keepTotal = keepTotal
        self.topK = topK
    }

    /// The best `counts[layer]` experts of every layer.
    public func plan(keeping counts: [Int: Int]) -> PruningPlan {
        PruningPlan(kept: Dictionary(uniqueKeysWithValues: counts.map { ($0.key, Array(ranking[$0.key]!.prefix($0.value))) }), topK: topK)
    }

    /// One greedy step each: `evaluate` gets the candidate plans (one per layer that can still lose an expert, in
    /// layer order) and returns their KL; the lowest wins, ties to the lower layer. Returns the final plan and,
    /// per step, the layer that lost an expert and the KL after it.
    public func run(evaluate: ([PruningPlan]) throws(MoESlimError) -> [Double]) throws(MoESlimError) -> (plan: PruningPlan, steps: [(layer: Int, kl: Double)]) {
        var counts = Dictionary(uniqueKeysWithValues: model.moeLayers.map { ($0.layer, $0.numExperts) })
        var total = counts.values.reduce(0, +)
        var steps: [(layer: Int, kl: Double)] = []
        while total > keepTotal {
            let layers = model.moeLayers.filter { counts[$0.layer]! > min(topK ?? $0.topK, $0.numExperts) }.map(\.layer)
            let candidates = layers.map { l in plan(keeping: counts.merging([(l, counts[l]! - 1)]) { $1 }) }
            let kls = try evaluate(candidates)
            var best = 0
            for i in kls.indices where kls[i] < kls[best] { best = i }
            counts[layers[best]]! -= 1
            total -= 1
            steps.append((layers[best], kls[best]))
        }
        return (plan(keeping: counts), steps)
    }

    /// The evolutionary search (BudgetEvolution) over the same bounds as the greedy one: each layer keeps
    /// between its top-k and all its experts. Returns the final plan, its KL and each generation's best KL.
    public func evolve(_ settings: BudgetEvolution.Settings, evaluate: ([PruningPlan]) throws(MoESlimError) -> [Double])
        throws(MoESlimError) -> (plan: PruningPlan, kl: Double, generations: [BudgetEvolution.Generation]) {
        let layers = model.moeLayers
        let evolution = BudgetEvolution(
            lower: layers.map { min(topK ?? $0.topK, $0.numExperts) }, upper: layers.map(\.numExperts), total: keepTotal,
            settings: settings)
        func plan(_ budget: [Int]) -> PruningPlan {
            self.plan(keeping: Dictionary(uniqueKeysWithValues: zip(layers.map(\.layer), budget).map { ($0, $1) }))
        }
        let found = try evolution.run { budgets throws(MoESlimError) in try evaluate(budgets.map(plan)) }
        return (plan(found.best), found.kl, found.generations)
    }

    /// The most model runs the greedy search makes: one per layer that can still lose an expert, at every step.
    public var greedyEvaluationsAtMost: Int {
        (model.moeLayers.reduce(0) { $0 + $1.numExperts } - keepTotal) * model.moeLayers.count
    }

    /// Uniform plans, k experts in every MoE layer, for every k from the largest top-k to the smallest expert count.
    public func uniformPlans() -> [(keep: Int, plan: PruningPlan)] {
        let low = model.moeLayers.map { min(topK ?? $0.topK, $0.numExperts) }.max() ?? 1
        let high = model.moeLayers.map(\.numExperts).min() ?? 0
        guard low <= high else { return [] }
        return (low...high).map { k in (k, plan(keeping: Dictionary(uniqueKeysWithValues: model.moeLayers.map { ($0.layer, k) }))) }
    }
}
