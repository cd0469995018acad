/// GLM-4.5 MoE: DeepSeek-V3's router (sigmoid, correction bias, groups) on grouped-query attention.
struct Glm4MoeFamily: ModelFamily {
    static let modelTypes = ["glm4_moe"]

    struct Config: Decodable {
        var dims: TransformerDims
        var experts: ExpertKeys
        var firstKDenseReplace: Int?
        var nGroup: Int?
        var topkGroup: Int?
        var normTopkProb: Bool?
        var routedScalingFactor: Double?

        enum CodingKeys: String, CodingKey {
            case firstKDenseReplace = "first_k_dense_replace"
            case nGroup = "n_group"
            case topkGroup = "topk_group"
            case normTopkProb = "norm_topk_prob"
            case routedScalingFactor = "routed_scaling_factor"
        }

        init(from decoder: Decoder) throws {
            dims = try TransformerDims(from: decoder)
            experts = try ExpertKeys(from: decoder)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            firstKDenseReplace = try c.decodeIfPresent(Int.self, forKey: .firstKDenseReplace)
            nGroup = try c.decodeIfPresent(Int.self, forKey: .nGroup)
            topkGroup = try c.decodeIfPresent(Int.self, forKey: .topkGroup)
            normTopkProb = try c.decodeIfPresent(Bool.self, forKey: .normTopkProb)
            routedScalingFactor = try c.decodeIfPresent(Double.self, forKey: .routedScalingFactor)
        }
    }

    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        let first = c.firstKDenseReplace ?? 1
        let routing = RoutingRule(
            scoring: .sigmoid, normalizeTopK: c.normTopkProb ?? true, groups: c.nGroup ?? 1,
            topkGroups: c.topkGroup ?? 1, scalingFactor: c.routedScalingFactor ?? 1)
        var layout = FamilyLayout(
            dims: c.dims, experts: c.experts, routing: routing, moeLayers: c.dims.allLayers.filter { $0 >= first },
            moePrefix: { "model.layers.\($0).mlp." },
            router: [("gate.weight", 0, true), ("gate.e_score_correction_bias", 0, true)])
        layout.sharedPaths = ["shared_experts."]
        layout.buffers = ["gate.e_score_correction_bias"]
        return layout
    }
}

extension Glm4MoeFamily: EngineFamily {
    struct EngineConfig: Decodable {
        var dims: EngineDims
        var useQkNorm: Bool?

        enum CodingKeys: String, CodingKey {
            case useQkNorm = "use_qk_norm"
        }

        init(from decoder: Decoder) throws {
            dims = try EngineDims(from: decoder)
            useQkNorm = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(Bool.self, forKey: .useQkNorm)
        }
    }

    static func engineSpec(_ c: EngineConfig) throws(MoESlimError) -> EngineSpec {
        try c.dims.requireSiLU()
        var (attention, rope) = try c.dims.groupedAttention()
        if c.useQkNorm ?? false { attention.qkNorm = .perHead }
        var spec = EngineSpec(
            normEps: c.dims.eps, rope: rope, attention: attention, moePath: "mlp.",
            router: RouterNames(weight: "gate.weight", correctionBias: "gate.e_score_correction_bias"),
            experts: .perExpert(gate: "gate_proj.weight", up: "up_proj.weight", down: "down_proj.weight"))
        spec.sharedExpert = SharedExpertSpec(
            mlp: GatedMLPNames(prefix: "shared_experts.", gate: "gate_proj.weight", up: "up_proj.weight", down: "down_proj.weight"))
        return spec
    }
}
