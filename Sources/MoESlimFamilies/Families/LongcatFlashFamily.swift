import MoESlimSupport

/// Meituan LongCat-Flash (`longcat_flash`). Each decoder layer `model.layers.<L>.` attends twice (`self_attn.0`,
/// `self_attn.1`: DeepSeek-V3's multi-head latent attention with LoRA scaling), has two dense MLPs (`mlps.0`,
/// `mlps.1`) and one shortcut MoE (`mlp.`) that reads the first attention's output beside the second half of the
/// layer. The router `mlp.router.classifier` softmaxes over `n_routed_experts + zero_expert_num` experts, picks the
/// top `moe_topk` by score plus `e_score_correction_bias` (a buffer), does not renormalise and scales by
/// `routed_scaling_factor`. The last `zero_expert_num` experts are zero-compute: a token sent to one gets its own
/// hidden state times the weight, and they have router rows but no tensors.
///
/// Described, not run: the forward pass has one attention per layer and no shortcut MoE branch, so calibrate,
/// eval and sweep refuse it (`EngineFamilies.spec`). Pruning keeps the same number of experts with weights and
/// of zero-compute experts in every layer, because the config has one count of each (formats/plan.md).
struct LongcatFlashFamily: ModelFamily {
    static let modelTypes = ["longcat_flash"]

    static let names = TensorNames([
        .router: "router.classifier.weight", .routerCorrectionBias: "router.e_score_correction_bias",
    ])
    static let configBounds = ConfigBounds(
        expertKeys: ["zero_expert_num"], layerCountKeys: ["num_layers"],
        dimensionKeys: ["qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim", "q_lora_rank", "kv_lora_rank", "ffn_hidden_size",
                        "expert_ffn_hidden_size"])

    struct Config: Decodable {
        var numLayers: Int?
        var numHiddenLayers: Int?
        var hiddenSize: Int
        var vocabSize: Int
        var numAttentionHeads: Int
        var tieWordEmbeddings: Bool?
        var experts: ExpertKeys
        var zeroExpertNum: Int?
        var routedScalingFactor: Double?
        var mla: MultiLatentDims

        enum CodingKeys: String, CodingKey {
            case numLayers = "num_layers"
            case numHiddenLayers = "num_hidden_layers"
            case hiddenSize = "hidden_size"
            case vocabSize = "vocab_size"
            case numAttentionHeads = "num_attention_heads"
            case tieWordEmbeddings = "tie_word_embeddings"
            case zeroExpertNum = "zero_expert_num"
            case routedScalingFactor = "routed_scaling_factor"
        }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            numLayers = try c.decodeIfPresent(Int.self, forKey: .numLayers)
            numHiddenLayers = try c.decodeIfPresent(Int.self, forKey: .numHiddenLayers)
            hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
            vocabSize = try c.decode(Int.self, forKey: .vocabSize)
            numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
            tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings)
            experts = try ExpertKeys(from: decoder)
            zeroExpertNum = try c.decodeIfPresent(Int.self, forKey: .zeroExpertNum)
            routedScalingFactor = try c.decodeIfPresent(Double.self, forKey: .routedScalingFactor)
            mla = try MultiLatentDims(from: decoder)
        }

        /// LongcatFlashConfig's decoder layers: num_hidden_layers is a property, 2 × num_layers (one per
        /// attention sublayer); a config that states it sets num_layers to half of it, which wins over num_layers.
        /// Without either, transformers' default of 28.
        var decoderLayers: Int { numHiddenLayers.map { $0 / 2 } ?? numLayers ?? 28 }

        /// transformers' default is 256 zero experts when the key is absent.
        var zeroCompute: Int { zeroExpertNum ?? 256 }
    }

    /// Every decoder layer has the MoE block. numExperts counts the router's rows: the experts with weights
    /// (n_routed_experts, the expert-count key prune rewrites) and then the zero-compute ones.
    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        try c.mla.check()
        let layers = c.decoderLayers
        let dims = TransformerDims(
            numHiddenLayers: layers, hiddenSize: c.hiddenSize, vocabSize: c.vocabSize, numAttentionHeads: c.numAttentionHeads,
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
