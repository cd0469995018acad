import MoESlimSupport

/// OLMoE: per-expert SwiGLU under mlp, q/k norms, softmax router with optional top-k renormalisation.
struct OlmoeFamily: EngineFamily {
    static let modelTypes = ["olmoe"]

    static let names = TensorNames()

    struct Config: Decodable, EngineConfigured {
        var dims: TransformerDims
        var experts: ExpertKeys
        var engine: EngineDims
        var normTopkProb: Bool?

        enum CodingKeys: String, CodingKey {
            case normTopkProb = "norm_topk_prob"
        }

        init(from decoder: Decoder) throws {
            dims = try TransformerDims(from: decoder)
            experts = try ExpertKeys(from: decoder)
            engine = try EngineDims(from: decoder)
            normTopkProb = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(Bool.self, forKey: .normTopkProb)
        }
    }

    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        FamilyLayout(
            dims: c.dims, experts: c.experts, routing: .softmax(normalize: c.normTopkProb ?? false),
            moeLayers: c.dims.allLayers, names: names)
    }

    /// Experts fused on loading as Qwen2-MoE's.
    static let adapterNames = Qwen2MoeFamily.adapterNames
}

extension OlmoeFamily {
    static func engineSpec(_ config: Config) throws(MoESlimError) -> EngineSpec {
        let c = config.engine
        try c.requireSiLU()
        var (attention, rope) = try c.groupedAttention()
        attention.qkNorm = .whole
        var spec = EngineSpec(
            normEps: c.eps, rope: rope, attention: attention, names: names,
            experts: .perExpert(names))
        spec.intermediate = c.expertsOfIntermediateSize
        return spec
    }
}
