import MoESlimSupport

/// DeepSeek-V3.2 (`deepseek_v32`) and GLM-5 (`glm_moe_dsa`): DeepSeek-V3's latent attention, router and names,
/// plus DeepSeek Sparse Attention: a per-layer indexer (`self_attn.indexer.*`, copied as any attention tensor)
/// that lets each query see only its `index_topk` best-scored keys. A sequence no longer than index_topk keeps
/// every key, so the forward pass is dense attention there; longer sequences are refused by calibrate and eval
/// (the indexer's selection is not implemented). GLM-5's shared indexer layers change only that selection.
struct DeepseekSparseFamily: EngineFamily {
    static let modelTypes = ["deepseek_v32", "glm_moe_dsa"]

    static let names = DeepseekFamily.names
    static let configBounds: ConfigBounds = {
        var bounds = DeepseekFamily.configBounds
        bounds.dimensionKeys += ["index_topk", "index_head_dim", "index_n_heads"]
        bounds.positiveKeys += ["index_topk", "index_head_dim", "index_n_heads"]
        return bounds
    }()

    struct Config: Decodable, EngineConfigured {
        var mla: DeepseekFamily.Config
        var mlpLayers: MLPLayerTypes
        var indexTopK: Int?

        var engine: EngineDims {
            get { mla.engine }
            set { mla.engine = newValue }
        }

        enum CodingKeys: String, CodingKey {
            case indexTopK = "index_topk"
        }

        init(from decoder: Decoder) throws {
            mla = try DeepseekFamily.Config(from: decoder)
            mlpLayers = try MLPLayerTypes(from: decoder)
            indexTopK = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(Int.self, forKey: .indexTopK)
        }

        var isGLM: Bool { mla.modelType.sameBytes(as: "glm_moe_dsa") }
    }

    /// Both config classes default first_k_dense_replace to 3 and routed_scaling_factor to 2.5; DeepSeek-V3.2
    /// groups 8 ways keeping 4, GLM-5 has one group.
    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        let layers = c.mla.dims.numHiddenLayers
        return try DeepseekFamily.sigmoidGroupedLayout(
            c.mla, moeLayers: try c.mlpLayers.moeLayers(layers: layers, firstDense: c.mla.router.firstKDenseReplace ?? 3),
            defaults: c.isGLM ? .init(groups: 1, topkGroups: 1, scaling: 2.5) : .init(groups: 8, topkGroups: 4, scaling: 2.5))
    }

    static let adapterNames = DeepseekFamily.adapterNames
}

extension DeepseekSparseFamily {
    /// transformers' default index_topk.
    static let defaultIndexTopK = 2048

    /// The main attention always rotates interleaved pairs (rope_interleave is not read) and always has q_a_proj.
    static func engineSpec(_ c: Config) throws(MoESlimError) -> EngineSpec {
        guard c.mla.qLoraRank != nil else {
            throw MoESlimError(.invalidConfig, "config lacks what the forward pass needs: missing key 'q_lora_rank'")
        }
        var mla = c.mla
        mla.ropeInterleave = true
        var spec = try DeepseekFamily.engineSpec(mla)
        spec.attention.denseUpTo = AttentionSpec.DenseLimit(
            tokens: c.indexTopK ?? defaultIndexTopK, key: "index_topk",
            reason: "its sparse-attention indexer then drops keys, which the forward pass does not implement")
        return spec
    }
}
