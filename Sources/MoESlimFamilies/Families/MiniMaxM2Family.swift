import MoESlimSupport

/// MiniMax-M2: Mixtral's per-expert w1/w3/w2 under block_sparse_moe, a sigmoid router whose choice is shifted by a
/// correction bias stored beside the experts (`block_sparse_moe.e_score_correction_bias`), always renormalised
/// over the top-k; attention with RMS q/k norms over all heads at once and a partial rotation.
struct MiniMaxM2Family: EngineFamily {
    static let modelTypes = ["minimax_m2"]

    static let names = TensorNames([
        .moeBlock: "block_sparse_moe.", .gate: "w1.weight", .up: "w3.weight", .down: "w2.weight",
        .routerCorrectionBias: "e_score_correction_bias",
    ])
    static let configBounds = ConfigBounds(dimensionKeys: ["rotary_dim"], positiveKeys: ["rotary_dim"])

    struct Config: Decodable, EngineConfigured {
        var dims: TransformerDims
        var experts: ExpertKeys
        var engine: EngineDims
        /// Released checkpoints state the partial rotation as a width; transformers turns it into
        /// partial_rotary_factor = rotary_dim / head_dim when rope_parameters do not give one.
        var rotaryDim: Int?

        enum CodingKeys: String, CodingKey {
            case rotaryDim = "rotary_dim"
        }

        init(from decoder: Decoder) throws {
            dims = try TransformerDims(from: decoder)
            experts = try ExpertKeys(from: decoder)
            engine = try EngineDims(from: decoder)
            rotaryDim = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(Int.self, forKey: .rotaryDim)
        }
    }

    /// transformers' MiniMaxM2TopKRouter: sigmoid scores, top-k of score + bias, weights renormalised, no scaling.
    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        var layout = FamilyLayout(
            dims: c.dims, experts: c.experts,
            routing: RoutingRule(scoring: .sigmoid, normalizeTopK: true, groups: nil, topkGroups: nil, scalingFactor: 1),
            moeLayers: c.dims.allLayers, names: names,
            router: [(names[.router], 0, true), (names[.routerCorrectionBias], 0, true)])
        layout.buffers = [names[.routerCorrectionBias]]
        return layout
    }

    /// Loaded as Mixtral's (block_sparse_moe run as mlp, experts fused); the correction bias moves with the block.
    static let adapterNames = MixtralFamily.adapterNames
}

extension MiniMaxM2Family {
    static func engineSpec(_ config: Config) throws(MoESlimError) -> EngineSpec {
        var c = config.engine
        try c.requireSiLU()
        if c.rope.partialRotaryFactor == nil, let width = config.rotaryDim {
            c.rope.partialRotaryFactor = Double(width) / Double(c.resolvedHeadDim)
        }
        var (attention, rope) = try c.groupedAttention()
        attention.qkNorm = .whole
        var spec = EngineSpec(
            normEps: c.eps, rope: rope, attention: attention, names: names,
            experts: .perExpert(names))
        spec.intermediate = c.expertsOfIntermediateSize
        return spec
    }
}
