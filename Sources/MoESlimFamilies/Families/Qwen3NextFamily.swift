import MoESlimSupport

/// Qwen3-Next: hybrid layers, Gated DeltaNet linear attention on three layers of four and gated full attention
/// (q_proj twice as wide, its second half a sigmoid output gate; partial rotary; zero-centred RMSNorm) on the
/// fourth; per-expert SwiGLU experts with one shared expert behind a sigmoid gate; softmax top-k, renormalised
/// by default. The `mtp.` block beyond the decoder layers has its own experts (see `HybridQwen.mtp`).
struct Qwen3NextFamily: EngineFamily {
    static let modelTypes = ["qwen3_next"]

    static let names = TensorNames([
        .sharedExperts: "shared_expert.", .sharedExpertGate: "shared_expert_gate.",
        .linearAttention: "linear_attn.", .linearQKVZ: "in_proj_qkvz", .linearBA: "in_proj_ba",
        .linearConv: "conv1d.weight", .linearTimeStepBias: "dt_bias", .linearDecayLog: "A_log", .linearNorm: "norm",
        .linearOutput: "out_proj", .multiTokenPrediction: "mtp.",
    ])
    static let configBounds = HybridQwenConfig.bounds

    typealias Config = HybridQwenConfig

    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        try c.layout(names: names, moeLayers: c.sparse.moeLayers(c.dims, experts: c.experts.count),
                     routing: .softmax(normalize: c.sparse.normTopkProb ?? true))
    }

    /// Experts fused on loading as Qwen2-MoE's (conversion_mapping.py maps qwen3_next to qwen2_moe).
    static let adapterNames = Qwen2MoeFamily.adapterNames

    static func engineSpec(_ config: Config) throws(MoESlimError) -> EngineSpec {
        try config.engineSpec(names: names, projections: .interleaved, experts: .perExpert(names))
    }
}

/// The config Qwen3-Next and Qwen3.5-MoE read (Qwen3.5 nests it in text_config), with transformers' defaults.
struct HybridQwenConfig: Decodable, EngineConfigured {
    static let bounds = ConfigBounds(
        dimensionKeys: QwenSparseLayers.bounds.dimensionKeys + [
            "linear_conv_kernel_dim", "linear_key_head_dim", "linear_value_head_dim", "linear_num_key_heads",
            "linear_num_value_heads", "full_attention_interval", "mtp_num_hidden_layers",
        ],
        layerListKeys: QwenSparseLayers.bounds.layerListKeys,
        positiveKeys: QwenSparseLayers.bounds.positiveKeys + [
            "linear_conv_kernel_dim", "linear_key_head_dim", "linear_value_head_dim", "linear_num_key_heads",
            "linear_num_value_heads", "full_attention_interval",
        ])

    var dims: TransformerDims
    var experts: ExpertKeys
    var engine: EngineDims
    var sparse: QwenSparseLayers
    var sharedExpertIntermediateSize: Int
    var convKernel: Int
    var keyHeadDim: Int
    var valueHeadDim: Int
    var keyHeads: Int
    var valueHeads: Int
    var fullAttentionInterval: Int
    var mtpLayers: Int?

    enum CodingKeys: String, CodingKey {
        case sharedExpertIntermediateSize = "shared_expert_intermediate_size"
        case convKernel = "linear_conv_kernel_dim"
        case keyHeadDim = "linear_key_head_dim"
        case valueHeadDim = "linear_value_head_dim"
        case keyHeads = "linear_num_key_heads"
        case valueHeads = "linear_num_value_heads"
        case fullAttentionInterval = "full_attention_interval"
        case mtpLayers = "mtp_num_hidden_layers"
    }

    init(from decoder: Decoder) throws {
        dims = try TransformerDims(from: decoder)
        experts = try ExpertKeys(from: decoder)
        engine = try EngineDims(from: decoder)
        sparse = try QwenSparseLayers(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sharedExpertIntermediateSize = try c.decodeIfPresent(Int.self, forKey: .sharedExpertIntermediateSize) ?? 512
        convKernel = try c.decodeIfPresent(Int.self, forKey: .convKernel) ?? 4
        keyHeadDim = try c.decodeIfPresent(Int.self, forKey: .keyHeadDim) ?? 128
        valueHeadDim = try c.decodeIfPresent(Int.self, forKey: .valueHeadDim) ?? 128
        keyHeads = try c.decodeIfPresent(Int.self, forKey: .keyHeads) ?? 16
        valueHeads = try c.decodeIfPresent(Int.self, forKey: .valueHeads) ?? 32
        fullAttentionInterval = try c.decodeIfPresent(Int.self, forKey: .fullAttentionInterval) ?? 4
        mtpLayers = try c.decodeIfPresent(Int.self, forKey: .mtpLayers)
    }

    /// transformers' `layer_types`, or its default: full attention on every `full_attention_interval`-th layer.
    func linearLayers() throws(MoESlimError) -> Set<Int> {
        let types = dims.layerTypes ?? dims.allLayers.map { ($0 + 1) % fullAttentionInterval == 0 ? "full_attention" : "linear_attention" }
        var linear = Set<Int>()
        for (layer, type) in types.enumerated() {
            if type.sameBytes(as: "linear_attention") {
                linear.insert(layer)
            } else if !type.sameBytes(as: "full_attention") {
                throw MoESlimError(.invalidConfig, "layer_types[\(layer)] is \(JSONValue.quote(type)); Qwen's hybrid layers are \"linear_attention\" or \"full_attention\"")
            }
        }
        return linear
    }

    func layout(names: TensorNames, moeLayers: [Int], routing: RoutingRule) throws(MoESlimError) -> FamilyLayout {
        guard valueHeads % keyHeads == 0 else {
            throw MoESlimError(.invalidConfig, "linear_num_value_heads (\(valueHeads)) must be a multiple of linear_num_key_heads (\(keyHeads))")
        }
        var attention = dims.groupedAttention()
        attention.linear = LinearAttentionShape(
            layers: try linearLayers(), valueHeads: valueHeads, keyHeadDim: keyHeadDim, valueHeadDim: valueHeadDim)
        var layout = FamilyLayout(dims: dims, experts: experts, attention: attention, routing: routing, moeLayers: moeLayers, names: names)
        layout.multiTokenPrediction = names.name(.multiTokenPrediction).map { ([$0], "mtp_num_hidden_layers") }
        return layout
    }
}

extension HybridQwenConfig {
    /// The forward pass both hybrid families run: zero-centred RMSNorms (the layers', the final one and the
    /// per-head q/k norms), gated full attention with the config's partial rotary (0.25 unless stated), Gated
    /// DeltaNet on the linear layers, and the MoE block's shared expert behind its sigmoid gate.
    func engineSpec(
        names: TensorNames, projections: LinearAttentionSpec.Projections, experts: ExpertFormat
    ) throws(MoESlimError) -> EngineSpec {
        var c = engine
        try c.requireSiLU()
        if c.rope.partialRotaryFactor == nil { c.rope.partialRotaryFactor = 0.25 }
        var (attention, rope) = try c.groupedAttention()
        attention.qkNorm = .perHead
        attention.outputGate = .inQuery
        attention.normWeightOffset = 1
        attention.linear = LinearAttentionSpec(
            layers: try linearLayers(), keyHeads: keyHeads, valueHeads: valueHeads, keyDim: keyHeadDim,
            valueDim: valueHeadDim, convKernel: convKernel, projections: projections)
        var spec = EngineSpec(normEps: c.eps, rope: rope, attention: attention, names: names, experts: experts)
        spec.norm = .zeroCenteredRMS
        spec.intermediate = IntermediateSizes(
            experts: c.moeIntermediateSize, shared: sharedExpertIntermediateSize, dense: c.intermediateSize)
        return spec
    }
}
