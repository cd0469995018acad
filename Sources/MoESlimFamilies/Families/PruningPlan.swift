import Foundation
import MoESlimSupport

/// Which original experts each MoE layer keeps. Layers not listed keep every expert. Kept ids are stored
/// ascending, which is also the order of the renumbered experts (kept expert i becomes expert i).
public struct PruningPlan: Sendable, Equatable {
    public var kept: [Int: [Int]]
    /// Experts per token to write into the config, if it changes.
    public var topK: Int?

    public init(kept: [Int: [Int]], topK: Int? = nil) {
        self.kept = kept.mapValues { $0.sorted() }
        self.topK = topK
    }

    public func keptExperts(layer: MoELayer) -> [Int] {
        kept[layer.layer] ?? Array(0..<layer.numExperts)
    }

    /// Refuses anything a loader would choke on or that would silently change routing: unknown layers, ids
    /// out of range or repeated, fewer experts than top-k, groups of unequal size under group-limited routing.
    public func validate(against model: ModelDescription, source: String) throws(MoESlimError) {
        func bad(_ message: String) -> MoESlimError { MoESlimError(.invalidPlan, message, path: source) }
        if let topK, topK < 1 { throw bad("top-k must be at least 1") }
        for (layerIndex, ids) in kept.sorted(by: { $0.key < $1.key }) {
            guard let layer = model.moeLayer(layerIndex) else {
                let moe = model.moeLayers.map { String($0.layer) }.joined(separator: ", ")
                throw bad("layer \(layerIndex) is not an MoE layer (MoE layers: \(moe))")
            }
            guard Set(ids).count == ids.count else { throw bad("layer \(layerIndex) lists an expert twice") }
            if let out = ids.first(where: { $0 < 0 || $0 >= layer.numExperts }) {
                throw bad("layer \(layerIndex): expert \(out) is out of range (0..<\(layer.numExperts))")
            }
            let k = topK ?? layer.topK
            guard ids.count >= k else {
                throw bad("layer \(layerIndex) keeps \(ids.count) experts, fewer than top-k \(k)")
            }
            if let groups = model.routing.groups, groups >= 1 {
                let size = layer.numExperts / groups
                let perGroup = (0..<groups).map { g in ids.filter { $0 / size == g }.count }
                guard Set(perGroup).count == 1 else {
                    throw bad("layer \(layerIndex) keeps \(perGroup) experts per group; group-limited routing (n_group \(groups)) needs the same count in every group")
                }
                // DeepSeek-V3 and GLM-4.5 score a group by its two best experts (topk(2) in transformers).
                if model.routing.scoring == .sigmoid && perGroup[0] < 2 {
                    throw bad("layer \(layerIndex) keeps \(perGroup[0]) expert per group; sigmoid group routing scores each group by its best two, so every group needs at least 2")
                }
                let topkGroups = model.routing.topkGroups ?? groups
                guard perGroup[0] * topkGroups >= k else {
                    throw bad("layer \(layerIndex): \(perGroup[0]) experts in each of topk_group \(topkGroups) groups cannot supply top-k \(k)")
                }
            }
        }
        try validateZeroCompute(against: model, bad: bad)
        if let topK {
            for layer in model.moeLayers where keptExperts(layer: layer).count < topK {
                throw bad("layer \(layer.layer) keeps \(keptExperts(layer: layer).count) experts, fewer than top-k \(topK)")
            }
        }
    }

    /// How many experts with weights and zero-compute experts a layer keeps.
    public func keptSplit(layer: MoELayer) -> (weighted: Int, zeroCompute: Int) {
        let kept = keptExperts(layer: layer)
        let zero = kept.reduce(0) { $0 + ($1 >= layer.weightedExperts ? 1 : 0) }
        return (kept.count - zero, zero)
    }

    /// With zero-compute experts the config has one count of experts with weights and one of zero-compute experts
    /// for all layers (LongCat-Flash's n_routed_experts and zero_expert_num): every layer must keep the same
    /// number of each, and at least one expert with weights.
    private func validateZeroCompute(against model: ModelDescription, bad: (String) -> MoESlimError) throws(MoESlimError) {
        guard let key = model.zeroComputeKey, let first = model.moeLayers.first else { return }
        let split = keptSplit(layer: first)
        for layer in model.moeLayers {
            let own = keptSplit(layer: layer)
            guard own.weighted >= 1 else {
                throw bad("layer \(layer.layer) keeps no expert with weights, only zero-compute experts (ids \(layer.weightedExperts) and up)")
            }
            guard own == split else {
                throw bad("layer \(layer.layer) keeps \(own.weighted) experts with weights and \(own.zeroCompute) zero-compute experts, layer \(first.layer) keeps \(split.weighted) and \(split.zeroCompute); the config has one \(model.expertCountKey) and one \(key) for all layers")
            }
        }
    }

    /// `{"layers": {"<layer>": [ids]}}`, the format of --plan and --plan-out (formats/plan.md).
    public var json: JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("layers", .object(kept.sorted { $0.key < $1.key }.map { (String($0.key), .array($0.value.map { .int($0) })) })),
        ]
        if let topK { members.append(("top_k", .int(topK))) }
        return .object(members)
    }

    /// A plan file as `prune --plan` and `sweep --plan` take it: `topK` (their --top-k) overrides the file's
    /// top_k, and a plan that does not fit `model` is refused with the file's path.
    public static func load(_ path: String, for model: ModelDescription, topK: Int?) throws(MoESlimError) -> PruningPlan {
        var plan = try load(path)
        if let topK { plan.topK = topK }
        try plan.validate(against: model, source: path)
        return plan
    }

    public static func load(_ path: String) throws(MoESlimError) -> PruningPlan {
        let json = try InputFile.readJSON(path, as: .plan)
        guard let layers = json["layers"]?.objectMembers else {
            throw MoESlimError(.invalidPlan, "plan has no \"layers\" object", path: path)
        }
        var kept: [Int: [Int]] = [:]
        for (key, value) in layers {
            guard let layer = key.plainIndex else {
                throw MoESlimError(.invalidPlan, "layer key '\(key)' is not a layer index", path: path)
            }
            guard let items = value.arrayValue else {
                throw MoESlimError(.invalidPlan, "layer \(layer) is not a list of expert ids", path: path)
            }
            var ids: [Int] = []
            for item in items {
                guard let id = item.intValue else {
                    throw MoESlimError(.invalidPlan, "layer \(layer) has a non-integer expert id", path: path)
                }
                ids.append(id)
            }
            guard Set(ids).count == ids.count else {
                throw MoESlimError(.invalidPlan, "layer \(layer) lists an expert twice", path: path)
            }
            kept[layer] = ids
        }
        var topK: Int?
        if let t = json["top_k"] {
            guard let v = t.intValue else { throw MoESlimError(.invalidPlan, "top_k is not an integer", path: path) }
            topK = v
        }
        return PruningPlan(kept: kept, topK: topK)
    }
}
