import MoESlimSupport

/// Arcee AFMoE (`afmoe`, Trinity): per-expert SwiGLU under mlp with shared experts, a sigmoid router at
/// `router.gate` whose choice is shifted by `expert_bias` (a parameter, not a buffer), top-k always renormalised
/// and scaled by route_scale; the first num_dense_layers layers are dense. Attention has per-head q/k norms and a
/// sigmoid output gate of its own (`self_attn.gate_proj`); sliding-window layers rotate and full-attention layers
/// do not; the attention's and the MLP's outputs are normalised again before each residual add (sandwich norms,
/// the MLP's input norm being `pre_mlp_layernorm`); with mup_enabled the embeddings are scaled by √hidden_size.
struct AfmoeFamily: EngineFamily {
    static let modelTypes = ["afmoe"]

    static let names = TensorNames([
        .router: "router.gate.weight", .routerCorrectionBias: "expert_bias", .sharedExperts: "shared_experts.",
        .mlpNorm: "pre_mlp_layernorm", .attentionOutputNorm: "post_attention_layernorm",
        .mlpOutputNorm: "post_mlp_layernorm", .attentionGate: "gate_proj",
    ])
    static let configBounds = ConfigBounds(
        expertKeys: ["num_shared_experts"], dimensionKeys: ["num_dense_layers", "global_attn_every_n_layers"])

    struct Config: Decodable, EngineConfigured {
        var dims: TransformerDims
        var experts: ExpertKeys
        var engine: EngineDims
        var numDenseLayers: Int?
        var routeScale: Double?
        var numSharedExperts: Int?
        var globalAttnEveryNLayers: Int?
        var mupEnabled: Bool?

        enum CodingKeys: String, CodingKey {
            case numDenseLayers = "num_dense_layers"
            case routeScale = "route_scale"
            case numSharedExperts = "num_shared_experts"
            case globalAttnEveryNLayers = "global_attn_every_n_layers"
            case mupEnabled = "mup_enabled"
        }

        init(from decoder: Decoder) throws {
            dims = try TransformerDims(from: decoder)
            experts = try ExpertKeys(from: decoder)
            engine = try EngineDims(from: decoder)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            numDenseLayers = try c.decodeIfPresent(Int.self, forKey: .numDenseLayers)
            routeScale = try c.decodeIfPresent(Double.self, forKey: .routeScale)
            numSharedExperts = try c.decodeIfPresent(Int.self, forKey: .numSharedExperts)
            globalAttnEveryNLayers = try c.decodeIfPresent(Int.self, forKey: .globalAttnEveryNLayers)
            mupEnabled = try c.decodeIfPresent(Bool.self, forKey: .mupEnabled)
        }
    }

    /// AfmoeConfig's defaults: one dense layer, route_scale 1.
    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        let first = c.numDenseLayers ?? 1
        return FamilyLayout(
            dims: c.dims, experts: c.experts,
            routing: RoutingRule(scoring: .sigmoid, normalizeTopK: true, groups: nil, topkGroups: nil, scalingFactor: c.routeScale ?? 1),
            moeLayers: c.dims.allLayers.filter { $0 >= first }, names: names,
            router: [(names[.router], 0, true), (names[.routerCorrectionBias], 0, true)])
    }

    /// Experts fused on loading as Qwen2-MoE's; router, bias and shared experts keep their names.
    static let adapterNames = Qwen2MoeFamily.adapterNames
}

extension AfmoeFamily {
    /// AfmoeConfig's defaults for what the forward pass reads: head_dim 128, rms_norm_eps 1e-5, sliding_window
    /// 1024, two shared experts, and layer_types windowed except every global_attn_every_n_layers-th (4) layer.
    /// Its default rotation covers the whole head whatever partial_rotary_factor says.
    static func engineSpec(_ config: Config) throws(MoESlimError) -> EngineSpec {
        var e = config.engine
        try e.requireSiLU()
        e.headDim = e.headDim ?? 128
        e.rmsNormEps = e.rmsNormEps ?? 1e-5
        if e.rope.type.sameBytes(as: "default") { e.rope.partialRotaryFactor = nil }
        let sliding = try slidingLayers(config)
        let window = e.slidingWindow ?? 1024
        var (attention, rope) = try e.groupedAttention(
            windows: window > 0 ? Dictionary(uniqueKeysWithValues: sliding.map { ($0, window) }) : [:])
        attention.qkNorm = .perHead
        attention.outputGate = .ownProjection
        attention.noRopeLayers = Set(config.dims.allLayers).subtracting(sliding)
        var spec = EngineSpec(normEps: e.eps, rope: rope, attention: attention, names: names, experts: .perExpert(names))
        if config.mupEnabled == true { spec.embeddingMultiplier = Float(Double(e.hiddenSize).squareRoot()) }
        spec.intermediate = e.mixtureOfIntermediateSizes(sharedExperts: config.numSharedExperts ?? 2)
        return spec
    }

    /// The layers AfmoeAttention treats as local (windowed and rotated): layer_types' "sliding_attention" entries,
    /// or AfmoeConfig's default pattern. transformers has a mask only for the two types it names.
    private static func slidingLayers(_ c: Config) throws(MoESlimError) -> Set<Int> {
        guard let types = c.engine.layerTypes else {
            let every = c.globalAttnEveryNLayers ?? 4
            guard every > 0 else {
                throw MoESlimError(.invalidConfig, "global_attn_every_n_layers is 0 and layer_types is missing: which layers are windowed is not stated")
            }
            return Set(c.dims.allLayers.filter { ($0 + 1) % every != 0 })
        }
        var sliding = Set<Int>()
        for (layer, type) in types.enumerated() {
            if type.sameBytes(as: "sliding_attention") {
                sliding.insert(layer)
            } else if !type.sameBytes(as: "full_attention") {
                throw MoESlimError(.invalidConfig, "layer_types[\(layer)] is \(JSONValue.quote(type)); AFMoE's layers are \"sliding_attention\" or \"full_attention\"")
            }
        }
        return sliding
    }
}
