import MoESlimSupport

/// Meituan LongCat-Flash (`longcat_flash`). Each decoder layer `model.layers.<L>.` attends twice (`self_attn.0`,
/// `self_attn.1`: DeepSeek-V3's multi-head latent attention with LoRA scaling), has two dense MLPs (`mlps.0`,
/// `mlps.1`) and one shortcut MoE (`mlp.`) that reads the first attention's output beside the second half of the
/// layer. The router `mlp.router.classifier` softmaxes over `n_routed_experts + zero_expert_num` experts, picks the
/// top `moe_topk` by score plus `e_score_correction_bias` (a buffer), does not renormalise and scales by
/// `routed_scaling_factor`. The last `zero_expert_num` experts are zero-compute: a token sent to one gets its own
/// hidden state times the weight, and they have router rows but no tensors.
///
/// The forward pass runs the two sublayers and the shortcut (`EngineSpec.shortcutSublayers`) and sends tokens
/// routed to a zero-compute expert through unchanged. Pruning keeps the same number of experts with weights and
/// of zero-compute experts in every layer, because the config has one count of each (formats/plan.md).
struct LongcatFlashFamily: EngineFamily {
    static let modelTypes = ["longcat_flash"]

    static let names = TensorNames([
        .router: "router.classifier.weight", .routerCorrectionBias: "router.e_score_correction_bias",
    ])
    static let configBounds = ConfigBounds(
        expertKeys: ["zero_expert_num"], layerCountKeys: ["num_layers"],
        dimensionKeys: ["qk_nope_head_dim", "qk_rope_head_dim", "qk_head_dim", "v_head_dim", "q_lora_rank", "kv_lora_rank",
                        "ffn_hidden_size", "expert_ffn_hidden_size"])

    struct Config: Decodable, EngineConfigured {
        var vocabSize: Int
        var tieWordEmbeddings: Bool?
        var experts: ExpertKeys
        var zeroExpertNum: Int?
        var routedScalingFactor: Double?
        var mla: MultiLatentDims
        var engine: EngineDims
        var qLoraRank: Int?
        var kvLoraRank: Int?
        var qkHeadDim: Int?
        var ffnHiddenSize: Int?
        var expertFFNHiddenSize: Int?

        enum CodingKeys: String, CodingKey {
            case numLayers = "num_layers"
            case numHiddenLayers = "num_hidden_layers"
            case vocabSize = "vocab_size"
            case tieWordEmbeddings = "tie_word_embeddings"
            case zeroExpertNum = "zero_expert_num"
            case routedScalingFactor = "routed_scaling_factor"
            case qLoraRank = "q_lora_rank"
            case kvLoraRank = "kv_lora_rank"
            case qkHeadDim = "qk_head_dim"
            case ffnHiddenSize = "ffn_hidden_size"
            case intermediateSize = "intermediate_size"
            case expertFFNHiddenSize = "expert_ffn_hidden_size"
            case moeIntermediateSize = "moe_intermediate_size"
        }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            vocabSize = try c.decode(Int.self, forKey: .vocabSize)
            tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings)
            experts = try ExpertKeys(from: decoder)
            zeroExpertNum = try c.decodeIfPresent(Int.self, forKey: .zeroExpertNum)
            routedScalingFactor = try c.decodeIfPresent(Double.self, forKey: .routedScalingFactor)
            mla = try MultiLatentDims(from: decoder)
            qLoraRank = try c.decodeIfPresent(Int.self, forKey: .qLoraRank)
            kvLoraRank = try c.decodeIfPresent(Int.self, forKey: .kvLoraRank)
            qkHeadDim = try c.decodeIfPresent(Int.self, forKey: .qkHeadDim)
            // intermediate_size and moe_intermediate_size are LongcatFlashConfig's aliases of these.
            ffnHiddenSize = try c.decodeIfPresent(Int.self, forKey: .ffnHiddenSize) ?? c.decodeIfPresent(Int.self, forKey: .intermediateSize)
            expertFFNHiddenSize = try c.decodeIfPresent(Int.self, forKey: .expertFFNHiddenSize)
                ?? c.decodeIfPresent(Int.self, forKey: .moeIntermediateSize)
            // num_hidden_layers is a property of LongcatFlashConfig, 2 × num_layers (one per attention sublayer); a
            // config that states it sets num_layers to half of it, which wins over num_layers. Without either,
            // transformers' default of 28.
            let layers = try c.decodeIfPresent(Int.self, forKey: .numHiddenLayers).map { $0 / 2 } ?? c.decodeIfPresent(Int.self, forKey: .numLayers)
            engine = try EngineDims(from: decoder, numHiddenLayers: layers ?? 28)
        }

        /// LongcatFlashConfig's decoder layers (the engine's layer count).
        var decoderLayers: Int { engine.numHiddenLayers }

        /// transformers' default is 256 zero experts when the key is absent.
        var zeroCompute: Int { zeroExpertNum ?? 256 }
    }

    /// Every decoder layer has the MoE block. numExperts counts the router's rows: the experts with weights
    /// (n_routed_experts, the expert-count key prune rewrites) and then the zero-compute ones.
    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        try c.mla.check()
        let layers = c.decoderLayers
        let dims = TransformerDims(
            numHiddenLayers: layers, hiddenSize: c.engine.hiddenSize, vocabSize: c.vocabSize, numAttentionHeads: c.engine.numAttentionHeads,
            numKeyValueHeads: nil, headDim: nil, tieWordEmbeddings: c.tieWordEmbeddings, slidingWindow: nil, layerTypes: nil)
        var experts = c.experts
        experts.count += c.zeroCompute
        guard experts.count <= ConfigLimits.maxExperts else {
            throw MoESlimError(.invalidConfig, "n_routed_experts + zero_expert_num is \(experts.count), more than \(ConfigLimits.maxExperts)")
        }
        var attention = c.mla.attention(dims)
        attention.perLayer = 2
        let routing = RoutingRule(scoring: .softmax, normalizeTopK: false, groups: nil, topkGroups: nil, scalingFactor: c.routedScalingFactor ?? 6)
        var layout = FamilyLayout(
            dims: dims, experts: experts, attention: attention, routing: routing, moeLayers: dims.allLayers, names: names,
            router: [(names[.router], 0, true), (names[.routerCorrectionBias], 0, false)])
        layout.buffers = [names[.routerCorrectionBias]]
        layout.zeroComputeExperts = (c.zeroCompute, "zero_expert_num")
        return layout
    }

    /// Experts fused on loading as Qwen2-MoE's (conversion_mapping.py maps longcat_flash to qwen2_moe); the
    /// router, the two attentions and the two dense MLPs keep their names.
    static let adapterNames = Qwen2MoeFamily.adapterNames
}

extension LongcatFlashFamily {
    /// LongcatFlashMLA, LongcatFlashDecoderLayer and LongcatFlashTopkRouter with the config class's defaults
    /// (q_lora_rank 1536, kv_lora_rank 512, ffn_hidden_size 12288, expert_ffn_hidden_size 2048, rms_norm_eps 1e-5).
    static func engineSpec(_ c: Config) throws(MoESlimError) -> EngineSpec {
        try c.engine.requireSiLU()
        let qk = c.mla.qkNopeHeadDim + c.mla.qkRopeHeadDim
        if let stated = c.qkHeadDim, stated != qk {
            throw MoESlimError(.invalidConfig, "qk_head_dim is \(stated); transformers splits each head into qk_nope_head_dim + qk_rope_head_dim (\(qk))")
        }
        // LongcatFlashRotaryEmbedding rotates head_dim (or hidden_size / heads) dimensions, applied to the
        // qk_rope_head_dim ones: the two must agree.
        let rotary = Int(Double(c.engine.resolvedHeadDim) * (c.engine.rope.partialRotaryFactor ?? 1))
        guard rotary == c.mla.qkRopeHeadDim else {
            throw MoESlimError(.invalidConfig, "head_dim gives a rotary width of \(rotary) but qk_rope_head_dim is \(c.mla.qkRopeHeadDim); transformers cannot apply it")
        }
        let (qRank, kvRank) = (c.qLoraRank ?? 1536, c.kvLoraRank ?? 512)
        guard qRank >= 1, kvRank >= 1 else {
            throw MoESlimError(.invalidConfig, "q_lora_rank and kv_lora_rank must be positive integers (\(qRank), \(kvRank))")
        }
        let hidden = Double(c.engine.hiddenSize)
        var mla = MultiLatentSpec(qLoraRank: qRank, kvLoraRank: kvRank, nopeDim: c.mla.qkNopeHeadDim, ropeDim: c.mla.qkRopeHeadDim, valueDim: c.mla.vHeadDim)
        mla.queryScale = Float((hidden / Double(qRank)).squareRoot())
        mla.latentScale = Float((hidden / Double(kvRank)).squareRoot())
        let attention = AttentionSpec(
            kind: .multiLatent(mla), numHeads: c.engine.numAttentionHeads, numKeyValueHeads: c.engine.numAttentionHeads,
            headDim: qk, scaling: c.engine.rope.deepseekScaling(1 / Float(qk).squareRoot()))
        let rope = try c.engine.rope.spec(rotaryDim: c.mla.qkRopeHeadDim, layout: .pairs, maxPositions: c.engine.maxPositionEmbeddings)
        var spec = EngineSpec(normEps: Float(c.engine.rmsNormEps ?? 1e-5), rope: rope, attention: attention, names: names, experts: .perExpert(names))
        spec.intermediate = IntermediateSizes(experts: c.expertFFNHiddenSize ?? 2048, dense: c.ffnHiddenSize ?? 12288)
        spec.shortcutSublayers = (0..<2).map { i in
            names.replacing([
                .attentionNorm: "input_layernorm.\(i)", .mlpNorm: "post_attention_layernorm.\(i)", .attention: "self_attn.\(i).",
                .denseMLP: "mlps.\(i).",
            ])
        }
        return spec
    }
}
