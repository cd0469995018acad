import MoESlimSupport

/// Nemotron-H MoE (`nemotron_h`, Nemotron-3-Nano): a hybrid of Mamba-2, attention, MLP and MoE layers under
/// `backbone.layers.`; each layer's `mixer` is one of them. The MoE mixer has non-gated experts (up and down,
/// relu²), shared experts and DeepSeek-V3's router (sigmoid, correction bias, groups). The layer count is the
/// length of `layers_block_type` (or of the older `hybrid_override_pattern`, one letter a layer, E for MoE);
/// transformers ignores num_hidden_layers. Described, not run: the Mamba-2 layers are not in the forward pass.
struct NemotronHFamily: ModelFamily {
    static let modelTypes = ["nemotron_h"]

    static let names = TensorNames(
        [
            .tokenEmbedding: "backbone.embeddings.weight", .finalNorm: "backbone.norm_f", .moeBlock: "mixer.",
            .sharedExperts: "shared_experts.", .routerCorrectionBias: "gate.e_score_correction_bias",
        ],
        absent: [.gate], layersPrefix: "backbone.layers.")
    static let configBounds = ConfigBounds(expertKeys: ["n_group", "topk_group", "n_shared_experts"])

    struct Config: Decodable {
        var dims: TransformerDims
        var experts: ExpertKeys
        var router: GroupedRouterKeys
        var blockTypes: [String]

        enum CodingKeys: String, CodingKey {
            case layersBlockType = "layers_block_type"
            case layerTypes = "layer_types"
            case pattern = "hybrid_override_pattern"
            case hiddenSize = "hidden_size"
            case vocabSize = "vocab_size"
            case numAttentionHeads = "num_attention_heads"
            case numKeyValueHeads = "num_key_value_heads"
            case headDim = "head_dim"
            case tieWordEmbeddings = "tie_word_embeddings"
        }

        /// As NemotronHConfig: layers_block_type (alias layer_types), else the pattern's letters (M Mamba,
        /// E MoE, * attention, - MLP), else its default of four layers.
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            if let list = try c.decodeIfPresent([String].self, forKey: .layersBlockType)
                ?? c.decodeIfPresent([String].self, forKey: .layerTypes) {
                blockTypes = list
            } else if let pattern = try c.decodeIfPresent(String.self, forKey: .pattern) {
                let letters: [UInt8: String] = [
                    UInt8(ascii: "M"): "linear_attention", UInt8(ascii: "E"): "moe", UInt8(ascii: "*"): "full_attention",
                    UInt8(ascii: "-"): "mlp",
                ]
                blockTypes = try pattern.utf8.map { letter in
                    guard let type = letters[letter] else {
                        throw DecodingError.dataCorruptedError(
                            forKey: .pattern, in: c, debugDescription: "hybrid_override_pattern has a letter other than M, E, * and -")
                    }
                    return type
                }
            } else {
                blockTypes = ["linear_attention", "moe", "full_attention", "mlp"]
            }
            dims = TransformerDims(
                numHiddenLayers: blockTypes.count, hiddenSize: try c.decode(Int.self, forKey: .hiddenSize),
                vocabSize: try c.decode(Int.self, forKey: .vocabSize),
                numAttentionHeads: try c.decode(Int.self, forKey: .numAttentionHeads),
                numKeyValueHeads: try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads),
                headDim: try c.decodeIfPresent(Int.self, forKey: .headDim),
                tieWordEmbeddings: try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings))
            experts = try ExpertKeys(from: decoder)
            router = try GroupedRouterKeys(from: decoder)
        }
    }

    /// NemotronHConfig's defaults: one group, top-k renormalised, routed_scaling_factor 1.
    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        guard c.blockTypes.count <= ConfigLimits.maxLayers else {
            throw MoESlimError(.invalidConfig, "layers_block_type lists \(c.blockTypes.count) layers, more than \(ConfigLimits.maxLayers)")
        }
        let r = c.router
        let routing = RoutingRule(
            scoring: .sigmoid, normalizeTopK: r.normTopkProb ?? true, groups: r.nGroup ?? 1,
            topkGroups: r.topkGroup ?? 1, scalingFactor: r.routedScalingFactor ?? 1)
        try r.check(routing, experts: c.experts.count)
        var layout = FamilyLayout(
            dims: c.dims, experts: c.experts, routing: routing,
            moeLayers: c.blockTypes.indices.filter { c.blockTypes[$0].sameBytes(as: "moe") }, names: names,
            router: [(names[.router], 0, true), (names[.routerCorrectionBias], 0, true)])
        layout.buffers = [names[.routerCorrectionBias]]
        return layout
    }

    /// transformers 5 loads `backbone.` as `model.` and stacks the experts' up_proj and down_proj.
    static let adapterNames = AdapterNameMap(
        renames: [("model.layers.", "backbone.layers.")],
        fusedExperts: [
            .init(training: "experts.up_proj", parts: [names[.up]]),
            .init(training: "experts.down_proj", parts: [names[.down]]),
        ])
}
