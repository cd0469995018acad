import MoESlimSupport

/// Mistral Small 4 (`mistral4`): DeepSeek-V3's multi-head latent attention, tensor names, shared experts and first
/// first_k_dense_replace dense layers, with its own router: softmax scores (no correction bias), groups ranked by
/// their two best scores, the top-k renormalised as norm_topk_prob says and scaled by routed_scaling_factor.
/// Experts per expert or fused as transformers 5.25 saves them (it has no conversion mapping for mistral4).
/// Its attention also scales the queries by 1 + llama_4_scaling_beta · log(1 + ⌊position / original_max_position_embeddings⌋).
struct Mistral4Family: EngineFamily {
    static let modelTypes = ["mistral4"]

    static let names = TensorNames([.sharedExperts: "shared_experts."])
    static let configBounds = DeepseekFamily.configBounds

    struct Config: Decodable, EngineConfigured {
        var mla: DeepseekFamily.Config
        var queryScaling: QueryScaling

        var engine: EngineDims {
            get { mla.engine }
            set { mla.engine = newValue }
        }

        init(from decoder: Decoder) throws {
            mla = try DeepseekFamily.Config(from: decoder)
            queryScaling = try QueryScaling(from: decoder)
        }
    }

    /// rope_parameters.llama_4_scaling_beta, which Mistral4Attention reads beside the rotary settings.
    struct QueryScaling: Decodable {
        var beta: Double?

        private struct Parameters: Decodable {
            var beta: Double?

            enum CodingKeys: String, CodingKey {
                case beta = "llama_4_scaling_beta"
            }
        }

        enum CodingKeys: String, CodingKey {
            case ropeParameters = "rope_parameters"
        }

        init(from decoder: Decoder) throws {
            beta = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(Parameters.self, forKey: .ropeParameters)?.beta
        }
    }

    /// As Mistral4Config and Mistral4TopkRouter: no dense layers, one group keeping one, norm_topk_prob true and
    /// routed_scaling_factor 1 unless the config says otherwise.
    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout { try layout(c, names: names) }

    /// The same layout under another name table, for the mistral3 wrapper that keeps this decoder under its own prefix.
    static func layout(_ c: Config, names: TensorNames) throws(MoESlimError) -> FamilyLayout {
        try c.mla.mla.check()
        let routing = RoutingRule(
            scoring: .softmax, normalizeTopK: c.mla.router.normTopkProb ?? true, groups: c.mla.router.nGroup ?? 1,
            topkGroups: c.mla.router.topkGroup ?? 1, scalingFactor: c.mla.router.routedScalingFactor ?? 1)
        try c.mla.router.check(routing, experts: c.mla.experts.count)
        let first = c.mla.router.firstKDenseReplace ?? 0
        return FamilyLayout(
            dims: c.mla.dims, experts: c.mla.experts, attention: c.mla.mla.attention(c.mla.dims), routing: routing,
            moeLayers: c.mla.dims.allLayers.filter { $0 >= first }, names: names, router: [(names[.router], 0, true)])
    }

    /// transformers 5.25 has no conversion mapping for mistral4: it trains on, saves and loads the experts fused
    /// (gate_up_proj [E, 2I, H], down_proj [E, H, I]), which keep their names; per-expert tensors are reached as
    /// DeepSeek's are.
    static let adapterNames = DeepseekFamily.adapterNames
}

extension Mistral4Family {
    /// DeepSeek-V3's forward pass. The query scaling is 1 at every position below original_max_position_embeddings,
    /// so the forward pass equals transformers' there; longer sequences are refused while llama_4_scaling_beta is set.
    static func engineSpec(_ c: Config) throws(MoESlimError) -> EngineSpec { try engineSpec(c, names: names) }

    static func engineSpec(_ c: Config, names: TensorNames) throws(MoESlimError) -> EngineSpec {
        try checkRotaryWidth(c)
        var spec = try DeepseekFamily.engineSpec(c.mla, names: names)
        spec.experts = .perExpertOrFused(names)
        if let beta = c.queryScaling.beta, beta != 0 {
            guard let original = c.engine.rope.originalMaxPositions, original >= 1 else {
                throw MoESlimError(
                    .invalidConfig,
                    "config lacks what the forward pass needs: rope_parameters.llama_4_scaling_beta is set, and rope_parameters.original_max_position_embeddings, which it divides positions by, is missing or not positive")
            }
            spec.attention.denseUpTo = AttentionSpec.DenseLimit(
                tokens: original, key: "rope_parameters.original_max_position_embeddings",
                reason: "llama_4_scaling_beta then scales the queries, which the forward pass does not implement")
        }
        return spec
    }

    /// Mistral4RotaryEmbedding rotates int(head_dim × partial_rotary_factor) dimensions (Mistral4Config's defaults:
    /// head_dim = qk_nope_head_dim + qk_rope_head_dim, the factor qk_rope_head_dim / head_dim), while the attention
    /// rotates qk_rope_head_dim of them; the forward pass follows transformers only where the two agree.
    static func checkRotaryWidth(_ c: Config) throws(MoESlimError) {
        let rope = c.mla.mla.qkRopeHeadDim
        let headDim = c.engine.headDim ?? c.mla.mla.qkNopeHeadDim + rope
        let factor = c.engine.rope.partialRotaryFactor ?? Double(rope) / Double(max(headDim, 1))
        guard (Double(headDim) * factor).rounded(.towardZero) == Double(rope) else {
            throw MoESlimError(
                .unsupportedModel,
                "head_dim (\(headDim)) × rope_parameters.partial_rotary_factor (\(factor)) is not qk_rope_head_dim (\(rope)): transformers rotates int(head_dim × partial_rotary_factor) dimensions, the forward pass qk_rope_head_dim")
        }
    }
}
