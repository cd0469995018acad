import MoESlimSupport

/// LFM2-MoE (`lfm2_moe`): gated short-convolution layers (`conv.`: in_proj, a causal depthwise Conv1d of
/// conv_L_cache taps, out_proj) and grouped-query attention layers with per-head q/k norms (`q_layernorm`,
/// `k_layernorm`, `out_proj`), as `layer_types` says; MoE under `feed_forward` with Mixtral-style per-expert
/// w1/w3/w2, a sigmoid router whose choice is shifted by the `expert_bias` buffer (when use_expert_bias), the
/// first num_dense_layers layers dense; norms `operator_norm` / `ffn_norm` with `norm_eps`, the final norm is
/// `model.embedding_norm` and the head is tied.
struct Lfm2MoeFamily: EngineFamily {
    static let modelTypes = ["lfm2_moe"]

    static let names = TensorNames([
        .moeBlock: "feed_forward.", .denseMLP: "feed_forward.", .gate: "w1.weight", .up: "w3.weight", .down: "w2.weight",
        .routerCorrectionBias: "expert_bias", .finalNorm: "model.embedding_norm",
        .attentionNorm: "operator_norm", .mlpNorm: "ffn_norm",
        .output: "out_proj", .queryNorm: "q_layernorm", .keyNorm: "k_layernorm",
        .shortConvolution: "conv.", .shortConvolutionInput: "in_proj", .shortConvolutionKernel: "conv",
        .shortConvolutionOutput: "out_proj",
    ])
    static let configBounds = ConfigBounds(
        dimensionKeys: ["num_dense_layers", "conv_L_cache"], positiveKeys: ["conv_L_cache"])

    struct Config: Decodable, EngineConfigured {
        var dims: TransformerDims
        var experts: ExpertKeys
        var engine: EngineDims
        var numDenseLayers: Int?
        var normTopkProb: Bool?
        var useExpertBias: Bool?
        var routedScalingFactor: Double?
        var normEps: Double?
        var convKernel: Int?

        enum CodingKeys: String, CodingKey {
            case numDenseLayers = "num_dense_layers"
            case normTopkProb = "norm_topk_prob"
            case useExpertBias = "use_expert_bias"
            case routedScalingFactor = "routed_scaling_factor"
            case normEps = "norm_eps"
            case convKernel = "conv_L_cache"
        }

        init(from decoder: Decoder) throws {
            dims = try TransformerDims(from: decoder)
            experts = try ExpertKeys(from: decoder)
            engine = try EngineDims(from: decoder)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            numDenseLayers = try c.decodeIfPresent(Int.self, forKey: .numDenseLayers)
            normTopkProb = try c.decodeIfPresent(Bool.self, forKey: .normTopkProb)
            useExpertBias = try c.decodeIfPresent(Bool.self, forKey: .useExpertBias)
            routedScalingFactor = try c.decodeIfPresent(Double.self, forKey: .routedScalingFactor)
            normEps = try c.decodeIfPresent(Double.self, forKey: .normEps)
            convKernel = try c.decodeIfPresent(Int.self, forKey: .convKernel)
        }
    }

    /// Lfm2MoeConfig's defaults: two dense layers, top-k renormalised, the expert bias used, scaling 1; the head
    /// is tied unless the config says otherwise.
    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        let first = c.numDenseLayers ?? 2
        let bias = c.useExpertBias ?? true
        var layout = FamilyLayout(
            dims: c.dims, experts: c.experts, tiedByDefault: true,
            routing: RoutingRule(
                scoring: .sigmoid, normalizeTopK: c.normTopkProb ?? true, groups: nil, topkGroups: nil,
                scalingFactor: c.routedScalingFactor ?? 1),
            moeLayers: c.dims.allLayers.filter { $0 >= first }, names: names,
            router: [(names[.router], 0, true), (names[.routerCorrectionBias], 0, bias)])
        layout.buffers = [names[.routerCorrectionBias]]
        return layout
    }

    /// transformers 5 fuses `feed_forward.experts.<e>.w1|w3` into gate_up_proj and w2 into down_proj.
    static let adapterNames = AdapterNameMap(fusedExperts: [
        .init(training: "experts.gate_up_proj", parts: [names[.gate], names[.up]]),
        .init(training: "experts.down_proj", parts: [names[.down]]),
    ])
}

extension Lfm2MoeFamily {
    /// Lfm2MoeConfig's defaults for what the forward pass reads: norm_eps 1e-5 (it has no rms_norm_eps),
    /// conv_L_cache 3, rope_theta 1e6 and a rotation over the whole head. layer_types has no default there (the
    /// model cannot be built without it), so a config without it is refused; its entries are "conv" or
    /// "full_attention", the two transformers has masks for. The router renormalises with 1e-6 in the sum.
    static func engineSpec(_ c: Config) throws(MoESlimError) -> EngineSpec {
        var e = c.engine
        try e.requireSiLU()
        e.rmsNormEps = c.normEps ?? 1e-5
        if e.rope.thetaIsDefault { e.rope.theta = 1_000_000 }
        if e.rope.type.sameBytes(as: "default") { e.rope.partialRotaryFactor = nil }
        guard let types = e.layerTypes else {
            throw MoESlimError(.invalidConfig, "the forward pass needs layer_types (which layers are \"conv\" and which \"full_attention\")")
        }
        var convolutions = Set<Int>()
        for (layer, type) in types.enumerated() {
            if type.sameBytes(as: "conv") {
                convolutions.insert(layer)
            } else if !type.sameBytes(as: "full_attention") {
                throw MoESlimError(.invalidConfig, "layer_types[\(layer)] is \(JSONValue.quote(type)); LFM2's layers are \"conv\" or \"full_attention\"")
            }
        }
        var (attention, rope) = try e.groupedAttention()
        attention.qkNorm = .perHead
        attention.shortConvolution = ShortConvolutionSpec(layers: convolutions, kernel: c.convKernel ?? 3)
        let tensors = c.useExpertBias ?? true ? names : names.without(.routerCorrectionBias)
        var spec = EngineSpec(normEps: e.eps, rope: rope, attention: attention, names: tensors, experts: .perExpert(names))
        spec.renormalizationEpsilon = 1e-6
        spec.intermediate = IntermediateSizes(experts: e.moeIntermediateSize, dense: e.intermediateSize)
        return spec
    }
}
