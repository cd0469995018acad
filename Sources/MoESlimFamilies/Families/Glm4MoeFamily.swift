import MoESlimSupport

/// GLM-4.5 MoE: DeepSeek-V3's router (sigmoid, correction bias, groups) on grouped-query attention.
struct Glm4MoeFamily: EngineFamily {
    static let modelTypes = ["glm4_moe"]

    /// DeepSeek-V3's names.
    static let names = DeepseekFamily.names
    static let configBounds = ConfigBounds(
        expertKeys: ["n_group", "topk_group", "n_shared_experts"], dimensionKeys: ["first_k_dense_replace"])

    struct Config: Decodable, EngineConfigured {
        var dims: TransformerDims
        var experts: ExpertKeys
        var engine: EngineDims
        var router: GroupedRouterKeys
        var useQkNorm: Bool?
        var nSharedExperts: Int?

        enum CodingKeys: String, CodingKey {
            case useQkNorm = "use_qk_norm"
            case nSharedExperts = "n_shared_experts"
        }

        init(from decoder: Decoder) throws {
            dims = try TransformerDims(from: decoder)
            experts = try ExpertKeys(from: decoder)
            engine = try EngineDims(from: decoder)
            router = try GroupedRouterKeys(from: decoder)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            useQkNorm = try c.decodeIfPresent(Bool.self, forKey: .useQkNorm)
            nSharedExperts = try c.decodeIfPresent(Int.self, forKey: .nSharedExperts)
        }
    }

    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        let r = c.router
        let first = r.firstKDenseReplace ?? 1
        let routing = RoutingRule(
            scoring: .sigmoid, normalizeTopK: r.normTopkProb ?? true, groups: r.nGroup ?? 1,
            topkGroups: r.topkGroup ?? 1, scalingFactor: r.routedScalingFactor ?? 1)
        try r.check(routing, experts: c.experts.count)
        var layout = FamilyLayout(
            dims: c.dims, experts: c.experts, routing: routing, moeLayers: c.dims.allLayers.filter { $0 >= first },
            names: names,
            router: [(names[.router], 0, true), (names[.routerCorrectionBias], 0, true)])
        layout.buffers = [names[.routerCorrectionBias]]
        return layout
    }

    /// Experts fused on loading as Qwen2-MoE's; shared experts and router keep their names.
    static let adapterNames = Qwen2MoeFamily.adapterNames
}

extension Glm4MoeFamily {
    static func engineSpec(_ c: Config) throws(MoESlimError) -> EngineSpec {
        try c.engine.requireSiLU()
        var (attention, rope) = try c.engine.groupedAttention()
        if c.useQkNorm ?? false { attention.qkNorm = .perHead }
        var spec = EngineSpec(
            normEps: c.engine.eps, rope: rope, attention: attention, names: names,
            experts: .perExpert(names))
        spec.intermediate = c.engine.mixtureOfIntermediateSizes(sharedExperts: c.nSharedExperts)
        return spec
    }
}
