/// GLM-4.5 MoE: DeepSeek-V3's router (sigmoid, correction bias, groups) on grouped-query attention.
struct Glm4MoeFamily: EngineFamily {
    static let modelTypes = ["glm4_moe"]

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
            moePrefix: { "model.layers.\($0).mlp." },
            router: [("gate.weight", 0, true), ("gate.e_score_correction_bias", 0, true)])
        layout.sharedPaths = ["shared_experts."]
        layout.buffers = ["gate.e_score_correction_bias"]
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
            normEps: c.engine.eps, rope: rope, attention: attention, moePath: "mlp.",
            router: RouterNames(weight: "gate.weight", correctionBias: "gate.e_score_correction_bias"),
            experts: .perExpert(gate: "gate_proj.weight", up: "up_proj.weight", down: "down_proj.weight"))
        spec.sharedExpert = SharedExpertSpec(
            mlp: GatedMLPNames(prefix: "shared_experts.", gate: "gate_proj.weight", up: "up_proj.weight", down: "down_proj.weight"))
        spec.intermediate = c.engine.mixtureOfIntermediateSizes(sharedExperts: c.nSharedExperts)
        return spec
    }
}
