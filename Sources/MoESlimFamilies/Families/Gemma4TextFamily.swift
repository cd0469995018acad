import Foundation
import MoESlimSupport

/// Gemma 4's text model (`gemma4_text`) with enable_moe_block: every decoder layer runs its dense MLP and, beside
/// it, a routed MoE block whose modules sit directly in the layer (router.proj, router.scale,
/// router.per_expert_scale, experts.gate_up_proj [E, 2I, H], experts.down_proj [E, H, I]), the two outputs added.
/// The router normalises its input (RMS norm, `scale`), scores with a softmax, renormalises the top-k and
/// multiplies each chosen weight by its expert's per_expert_scale.
/// The forward pass runs it as transformers 5.25's Gemma4TextModel: embeddings times √hidden_size; attention with
/// per-head q/k norms before RoPE, a weightless per-head v norm and scaling 1; sliding-window layers with head_dim
/// and num_key_value_heads, full-attention layers with their own head width and key-value heads (per_layer_config,
/// or global_head_dim and, under attention_k_eq_v, num_global_key_value_heads) and, under attention_k_eq_v, no
/// v_proj (the keys' projection is the values); default RoPE on sliding layers and proportional partial RoPE on
/// full ones, per rope_parameters' layer type; sandwich norms (post_attention_layernorm on the attention output,
/// pre/post_feedforward_layernorm around the MLP), the dense MLP and the experts each normalised on the way in
/// and out (post_feedforward_layernorm_1, pre/post_feedforward_layernorm_2) with the router reading the residual
/// stream; GELU-tanh MLPs; layer_scalar after each layer; final_logit_softcapping on the logits. Refused: per-layer
/// input embeddings (hidden_size_per_layer_input, Gemma 4's small dense models), shared key-value layers
/// (num_kv_shared_layers), bidirectional attention, rope types other than default and proportional.
struct Gemma4TextFamily: EngineFamily {
    static let modelTypes = ["gemma4_text"]

    /// The MoE block is the layer itself; its dense MLP (mlp.) always runs beside the experts and is described as
    /// their shared expert.
    static let names = TensorNames(layerRoles)
    /// The roles named within a decoder layer, which the wrapper shares.
    static let layerRoles: [TensorRole: String] = [
        .moeBlock: "", .router: "router.proj.weight", .sharedExperts: "mlp.",
        .routerInputScale: "router.scale", .routerExpertScale: "router.per_expert_scale",
        .fusedGateUp: "experts.gate_up_proj", .fusedDown: "experts.down_proj",
        .attentionOutputNorm: "post_attention_layernorm", .mlpNorm: "pre_feedforward_layernorm",
        .mlpOutputNorm: "post_feedforward_layernorm", .denseMLPOutputNorm: "post_feedforward_layernorm_1",
        .expertsInputNorm: "pre_feedforward_layernorm_2", .expertsOutputNorm: "post_feedforward_layernorm_2",
        .layerScale: "layer_scalar",
    ]
    static let configBounds = ConfigBounds(
        expertKeys: ["top_k_experts"],
        dimensionKeys: ["global_head_dim", "num_global_key_value_heads", "hidden_size_per_layer_input", "num_kv_shared_layers"],
        positiveKeys: ["global_head_dim", "num_global_key_value_heads"])

    struct Config: Decodable, EngineConfigured {
        var dims: TransformerDims
        var engine: EngineDims
        var gemma: Gemma4Keys
        var enableMoeBlock: Bool?
        var numExperts: Int?
        var topKExperts: Int?

        enum CodingKeys: String, CodingKey {
            case enableMoeBlock = "enable_moe_block"
            case numExperts = "num_experts"
            case topKExperts = "top_k_experts"
        }

        init(from decoder: Decoder) throws {
            dims = try TransformerDims(from: decoder)
            engine = try EngineDims(from: decoder)
            gemma = try Gemma4Keys(from: decoder)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            enableMoeBlock = try c.decodeIfPresent(Bool.self, forKey: .enableMoeBlock)
            numExperts = try c.decodeIfPresent(Int.self, forKey: .numExperts)
            topKExperts = try c.decodeIfPresent(Int.self, forKey: .topKExperts)
        }
    }

    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout { try layout(c, names: names) }

    /// Gemma4TextDecoderLayer builds the MoE block on every layer when enable_moe_block is true (its default is
    /// false: a dense Gemma 4 has no experts). The embeddings are tied unless tie_word_embeddings says otherwise.
    static func layout(_ c: Config, names: TensorNames) throws(MoESlimError) -> FamilyLayout {
        guard c.enableMoeBlock == true else {
            throw MoESlimError(.invalidConfig, "enable_moe_block is \(c.enableMoeBlock.map(String.init) ?? "missing"); a dense Gemma 4 has no experts to prune")
        }
        guard let count = c.numExperts else {
            throw MoESlimError(.invalidConfig, "num_experts is missing; enable_moe_block needs it")
        }
        guard let topK = c.topKExperts else {
            throw MoESlimError(.invalidConfig, "top_k_experts is missing; enable_moe_block needs it")
        }
        var layout = FamilyLayout(
            dims: c.dims, experts: ExpertKeys(count: count, countKey: "num_experts", topK: topK, topKKey: "top_k_experts"),
            tiedByDefault: true, routing: .softmax(normalize: true), moeLayers: c.dims.allLayers, names: names,
            router: [(names[.router], 0, true), ("router.per_expert_scale", 0, true)])
        // Each layer's layer_scalar is a persistent buffer, saved beside the parameters but not counted by transformers.
        layout.buffers = ["layer_scalar"]
        return layout
    }

    /// transformers 5.25 has no conversion mapping for Gemma 4: adapters are trained on the names stored on disk.
    static let adapterNames = AdapterNameMap.identity
}

extension Gemma4TextFamily {
    /// Gemma4TextConfig's defaults for what the forward pass reads: head_dim 256, rms_norm_eps 1e-6, sliding_window
    /// 512, global_head_dim 512, hidden_size_per_layer_input 256 (so a config must state 0), layer_types five
    /// sliding layers to one full one with the last layer always full, and rope_parameters default at 1e4 for
    /// sliding layers and proportional over a quarter of the head at 1e6 for full ones.
    static func engineSpec(_ c: Config) throws(MoESlimError) -> EngineSpec { try engineSpec(c, names: names) }

    static func engineSpec(_ c: Config, names: TensorNames) throws(MoESlimError) -> EngineSpec {
        let e = c.engine, g = c.gemma, layers = c.dims.numHiddenLayers
        let activation = g.hiddenActivation ?? "gelu_pytorch_tanh"
        guard activation.sameBytes(as: "gelu_pytorch_tanh") else {
            throw MoESlimError(.unsupportedModel, "hidden_activation is \(JSONValue.quote(activation)); the forward pass runs Gemma 4's gelu_pytorch_tanh only")
        }
        let perLayerInput = g.hiddenSizePerLayerInput ?? 256
        guard perLayerInput == 0 else {
            throw MoESlimError(.unsupportedModel, "hidden_size_per_layer_input is \(perLayerInput)\(g.hiddenSizePerLayerInput == nil ? " (Gemma4TextConfig's default)" : ""); the forward pass does not run per-layer input embeddings")
        }
        if let shared = g.numKvSharedLayers, shared != 0 {
            throw MoESlimError(.unsupportedModel, "num_kv_shared_layers is \(shared); the forward pass does not run layers that reuse another layer's keys and values")
        }
        if let mode = g.useBidirectionalAttention {
            throw MoESlimError(.unsupportedModel, "use_bidirectional_attention is \(JSONValue.quote(mode)); the forward pass runs causal attention only")
        }
        var types = e.layerTypes ?? (0..<layers).map { ($0 + 1) % 6 == 0 ? "full_attention" : "sliding_attention" }
        guard types.count == layers else {
            throw MoESlimError(.invalidConfig, "layer_types has \(types.count) entries for \(layers) layers")
        }
        if let other = types.first(where: { !$0.sameBytes(as: "sliding_attention") && !$0.sameBytes(as: "full_attention") }) {
            throw MoESlimError(.unsupportedModel, "layer_types has \(JSONValue.quote(other)); Gemma 4's layers are \"sliding_attention\" or \"full_attention\"")
        }
        // Gemma4TextConfig forces the last layer to full attention, whatever layer_types says.
        if layers > 0 { types[layers - 1] = "full_attention" }
        let full = Set(types.indices.filter { types[$0].sameBytes(as: "full_attention") })
        let dim = e.headDim ?? 256, kv = e.numKeyValueHeads ?? 4
        var dims: [Int: Int] = [:], kvHeads: [Int: Int] = [:]
        if let overrides = g.perLayerConfig {
            for (key, entry) in overrides {
                guard let layer = Int(key), (0..<layers).contains(layer) else {
                    throw MoESlimError(.invalidConfig, "per_layer_config has the key \(JSONValue.quote(key)); its keys are layer indices below \(layers)")
                }
                if let d = entry.headDim { dims[layer] = d }
                if let n = entry.numKeyValueHeads { kvHeads[layer] = n }
            }
        } else {
            for layer in full {
                dims[layer] = g.globalHeadDim ?? 512
                if g.attentionKEqV == true, let n = g.numGlobalKeyValueHeads { kvHeads[layer] = n }
            }
        }
        // per_layer_config is nested, beyond ConfigLimits' reach: bounded here.
        for layer in 0..<layers {
            let d = dims[layer] ?? dim, n = kvHeads[layer] ?? kv
            guard (2...ConfigLimits.maxDimension).contains(d), d % 2 == 0 else {
                throw MoESlimError(.invalidConfig, "layer \(layer) has head_dim \(d); it must be a positive even number")
            }
            guard (1...ConfigLimits.maxDimension).contains(n), e.numAttentionHeads % n == 0 else {
                throw MoESlimError(.invalidConfig, "layer \(layer) has \(n) key-value heads; they must divide the \(e.numAttentionHeads) attention heads")
            }
        }
        var attention = AttentionSpec(kind: .grouped, numHeads: e.numAttentionHeads, numKeyValueHeads: kv, headDim: dim, scaling: 1)
        attention.qkNorm = .perHead
        attention.valueNorm = true
        attention.headDimsPerLayer = dims.filter { $0.value != dim }
        attention.keyValueHeadsPerLayer = kvHeads.filter { $0.value != kv }
        if g.attentionKEqV == true { attention.keysAsValuesLayers = full }
        let window = e.slidingWindow ?? 512
        if window > 0 {
            for layer in 0..<layers where !full.contains(layer) { attention.slidingWindows[layer] = window }
        }
        var ropes: [Int: RopeSpec] = [:]
        for layer in 0..<layers {
            let type = types[layer]
            ropes[layer] = try g.rope(for: type, isFull: full.contains(layer), headDim: dims[layer] ?? dim)
        }
        let experts = ExpertFormat.fusedGateUp(gateUp: names[.fusedGateUp], down: names[.fusedDown])
        var spec = EngineSpec(
            normEps: e.eps, rope: ropes[0] ?? RopeSpec(inverseFrequencies: [], attentionFactor: 1, layout: .halves),
            attention: attention, names: names, experts: experts)
        spec.layerRopes = ropes
        spec.activation = .geluTanh
        spec.expertsBesideDenseMLP = true
        // Gemma4TextScaledWordEmbedding: hidden_size**0.5 as an f32 tensor (the forward pass computes in f32).
        spec.embeddingMultiplier = Float(Double(e.hiddenSize).squareRoot())
        if let cap = g.finalLogitSoftcapping {
            guard cap.isFinite, cap > 0 else {
                throw MoESlimError(.invalidConfig, "final_logit_softcapping is \(cap); it must be a positive number")
            }
            spec.logitSoftcap = Float(cap)
        }
        spec.intermediate = IntermediateSizes(experts: e.moeIntermediateSize, shared: e.intermediateSize ?? 9216, dense: e.intermediateSize ?? 9216)
        return spec
    }
}

/// The keys only Gemma 4's forward pass reads.
struct Gemma4Keys: Decodable {
    struct LayerRope: Decodable {
        var ropeType: String?
        var ropeTheta: Double?
        var partialRotaryFactor: Double?
        var factor: Double?

        enum CodingKeys: String, CodingKey {
            case ropeType = "rope_type"
            case ropeTheta = "rope_theta"
            case partialRotaryFactor = "partial_rotary_factor"
            case factor
        }
    }

    struct LayerOverride: Decodable {
        var headDim: Int?
        var numKeyValueHeads: Int?
        enum CodingKeys: String, CodingKey {
            case headDim = "head_dim"
            case numKeyValueHeads = "num_key_value_heads"
        }
    }

    var hiddenActivation: String?
    var hiddenSizePerLayerInput: Int?
    var numKvSharedLayers: Int?
    var useBidirectionalAttention: String?
    var attentionKEqV: Bool?
    var globalHeadDim: Int?
    var numGlobalKeyValueHeads: Int?
    var perLayerConfig: [String: LayerOverride]?
    var finalLogitSoftcapping: Double?
    /// rope_parameters per layer type, Gemma4TextConfig's only spelling.
    var ropeByType: [String: LayerRope]?
    var ropeStated = false

    enum CodingKeys: String, CodingKey {
        case hiddenActivation = "hidden_activation"
        case hiddenSizePerLayerInput = "hidden_size_per_layer_input"
        case numKvSharedLayers = "num_kv_shared_layers"
        case useBidirectionalAttention = "use_bidirectional_attention"
        case attentionKEqV = "attention_k_eq_v"
        case globalHeadDim = "global_head_dim"
        case numGlobalKeyValueHeads = "num_global_key_value_heads"
        case perLayerConfig = "per_layer_config"
        case finalLogitSoftcapping = "final_logit_softcapping"
        case ropeParameters = "rope_parameters"
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hiddenActivation = try c.decodeIfPresent(String.self, forKey: .hiddenActivation)
        hiddenSizePerLayerInput = try c.decodeIfPresent(Int.self, forKey: .hiddenSizePerLayerInput)
        numKvSharedLayers = try c.decodeIfPresent(Int.self, forKey: .numKvSharedLayers)
        useBidirectionalAttention = try c.decodeIfPresent(String.self, forKey: .useBidirectionalAttention)
        attentionKEqV = try c.decodeIfPresent(Bool.self, forKey: .attentionKEqV)
        globalHeadDim = try c.decodeIfPresent(Int.self, forKey: .globalHeadDim)
        numGlobalKeyValueHeads = try c.decodeIfPresent(Int.self, forKey: .numGlobalKeyValueHeads)
        perLayerConfig = try c.decodeIfPresent([String: LayerOverride].self, forKey: .perLayerConfig)
        finalLogitSoftcapping = try c.decodeIfPresent(Double.self, forKey: .finalLogitSoftcapping)
        // Any other spelling is the forward pass's to refuse, not a reason for inspect or prune to fail.
        ropeByType = try? c.decodeIfPresent([String: LayerRope].self, forKey: .ropeParameters)
        ropeStated = try c.contains(.ropeParameters) && !c.decodeNil(forKey: .ropeParameters)
    }

    /// Gemma4TextRotaryEmbedding's rotation for a layer type over a head of `headDim`: "default" over the whole
    /// head, or "proportional" (transformers' _compute_proportional_rope_parameters): the first
    /// ⌊partial_rotary_factor · headDim / 2⌋ frequencies of a head-wide default rotation, zeros for the rest (those
    /// pairs stay unrotated), all divided by `factor`.
    func rope(for type: String, isFull: Bool, headDim: Int) throws(MoESlimError) -> RopeSpec {
        let own: LayerRope
        if let ropeByType {
            guard let entry = ropeByType[type] else {
                throw MoESlimError(.invalidConfig, "rope_parameters has no entry for the \(JSONValue.quote(type)) layers")
            }
            own = entry
        } else if ropeStated {
            throw MoESlimError(.invalidConfig, "rope_parameters is not keyed by layer type (\"sliding_attention\", \"full_attention\") as Gemma 4's config has it")
        } else {
            own = isFull ? LayerRope(ropeType: "proportional", ropeTheta: 1_000_000, partialRotaryFactor: 0.25)
                : LayerRope(ropeType: "default", ropeTheta: 10000)
        }
        let kind = own.ropeType ?? "default"
        let theta = own.ropeTheta ?? 10000
        guard theta.isFinite, theta > 0 else {
            throw MoESlimError(.invalidConfig, "rope_parameters.\(type).rope_theta is \(theta); it must be a positive number")
        }
        let base = (0..<(headDim / 2)).map { i in 1 / Float(pow(Float(theta), Float(2 * i) / Float(headDim))) }
        if kind.sameBytes(as: "default") {
            return RopeSpec(inverseFrequencies: base, attentionFactor: 1, layout: .halves)
        }
        guard kind.sameBytes(as: "proportional") else {
            throw MoESlimError(.unsupportedModel, "rope_parameters.\(type).rope_type is \(JSONValue.quote(kind)); the forward pass runs Gemma 4's default and proportional rotations only")
        }
        let fraction = own.partialRotaryFactor ?? 1, factor = own.factor ?? 1
        guard fraction.isFinite, fraction >= 0, fraction <= 1, factor.isFinite, factor > 0 else {
            throw MoESlimError(.invalidConfig, "rope_parameters.\(type) has partial_rotary_factor \(fraction) and factor \(factor); the fraction must be in [0, 1] and the factor positive")
        }
        let rotated = Int((fraction * Double(headDim) / 2).rounded(.down))
        let frequencies = base.enumerated().map { i, f in (i < rotated ? f : 0) / Float(factor) }
        return RopeSpec(inverseFrequencies: frequencies, attentionFactor: 1, layout: .halves)
    }
}
