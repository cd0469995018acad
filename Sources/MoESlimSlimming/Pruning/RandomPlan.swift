import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies

/// Random plans, the baseline every criterion must beat (formats/eval.md, "Random plans"). Reproducible from the
/// seed on every platform: SplitMix64, and per layer (in layer order) a Fisher–Yates shuffle of the expert ids,
/// of which the first N (or, with group-limited routing, the first N / n_group of each group's shuffle) are kept.
public enum RandomPlan {
    /// SplitMix64 (Steele, Lea, Flood 2014): 64 bits per call.
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        /// An integer in 0..<bound by multiply-shift of the high 64 bits (bias below 2⁻⁵⁰ for expert counts).
        mutating func below(_ bound: Int) -> Int {
            Int(next().multipliedFullWidth(by: UInt64(bound)).high)
        }
    }

    /// The first `count` of a shuffle of `ids`: for i from the last index down to 1, swap i with below(i + 1).
    static func shuffled(_ ids: [Int], _ generator: inout Generator) -> [Int] {
        var out = ids
        var i = out.count - 1
        while i > 0 {
            out.swapAt(i, generator.below(i + 1))
            i -= 1
        }
        return out
    }

    /// A plan that keeps the same number of experts per layer as `ExpertSelection` with `amount` would.
    public static func plan(model: ModelDescription, amount: ExpertSelection.Amount, seed: UInt64, topK: Int?) throws(MoESlimError) -> PruningPlan {
        var generator = Generator(state: seed)
        let groups = max(model.routing.groups ?? 1, 1)
        let selection = ExpertSelection(criterion: ExpertSelection.Criterion(.hard), strategy: .layer, amount: amount, topK: topK)
        var kept: [Int: [Int]] = [:]
        for layer in model.moeLayers {
            let n = selection.keepCount(experts: layer.numExperts)
            guard n >= 1, n <= layer.numExperts else {
                throw MoESlimError(.invalidPlan, "cannot keep \(n) of \(layer.numExperts) experts in layer \(layer.layer)")
            }
            guard n % groups == 0 else {
                throw MoESlimError(.invalidPlan, "layer \(layer.layer): keeping \(n) experts cannot be split evenly over \(groups) routing groups")
            }
            let size = layer.numExperts / groups
            var ids: [Int] = []
            for g in 0..<groups {
                ids += shuffled(Array((g * size)..<((g + 1) * size)), &generator).prefix(n / groups)
            }
            kept[layer.layer] = ids.sorted()
        }
        let plan = PruningPlan(kept: kept, topK: topK)
        try plan.validate(against: model, source: "random plan (seed \(seed))")
        return plan
    }
}
