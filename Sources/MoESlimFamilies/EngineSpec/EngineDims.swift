import MoESlimSupport

/// The config keys the forward pass reads in every family, decoded once so family files add only what differs.
struct EngineDims: Decodable {
    var hiddenSize: Int
    var numAttentionHeads: Int
    var numKeyValueHeads: Int?
    var headDim: Int?
    var rmsNormEps: Double?
    var hiddenAct: String?
    var numHiddenLayers: Int
    var slidingWindow: Int?
    var useSlidingWindow: Bool?
    var maxWindowLayers: Int?
    var layerTypes: [String]?
    var maxPositionEmbeddings: Int?
    var intermediateSize: Int?
    var moeIntermediateSize: Int?
    var rope: RopeParameters

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size"
        case numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads"
        case headDim = "head_dim"
        case rmsNormEps = "rms_norm_eps"
        case hiddenAct = "hidden_act"
        case numHiddenLayers = "num_hidden_layers"
        case slidingWindow = "sliding_window"
        case useSlidingWindow = "use_sliding_window"
        case maxWindowLayers = "max_window_layers"
        case layerTypes = "layer_types"
        case maxPositionEmbeddings = "max_position_embeddings"
        case intermediateSize = "intermediate_size"
        case moeIntermediateSize = "moe_intermediate_size"
    }

    init(from decoder: Decoder) throws {
        try self.init(from: decoder, numHiddenLayers: try decoder.container(keyedBy: CodingKeys.self).decode(Int.self, forKey: .numHiddenLayers))
    }

    /// For a family whose config counts its decoder layers under another key (LongCat-Flash's num_layers).
    init(from decoder: Decoder, numHiddenLayers: Int) throws {
        self.numHiddenLayers = numHiddenLayers
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
        numKeyValueHeads = try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads)
        headDim = try c.decodeIfPresent(Int.self, forKey: .headDim)
        rmsNormEps = try c.decodeIfPresent(Double.self, forKey: .rmsNormEps)
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct)
        slidingWindow = try c.decodeIfPresent(Int.self, forKey: .slidingWindow)
        useSlidingWindow = try c.decodeIfPresent(Bool.self, forKey: .useSlidingWindow)
        maxWindowLayers = try c.decodeIfPresent(Int.self, forKey: .maxWindowLayers)
        layerTypes = try c.decodeIfPresent([String].self, forKey: .layerTypes)
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings)
        intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize)
        moeIntermediateSize = try c.decodeIfPresent(Int.self, forKey: .moeIntermediateSize)
        rope = try RopeParameters(from: decoder)
    }

    var resolvedHeadDim: Int { headDim ?? hiddenSize / max(numAttentionHeads, 1) }

    /// Every family here uses SiLU gating; anything else would give silently wrong expert outputs.
    func requireSiLU() throws(MoESlimError) {
        if let hiddenAct, hiddenAct != "silu" {
            throw MoESlimError(.unsupportedModel, "calibrate supports hidden_act 'silu' only, not '\(hiddenAct)'")
        }
    }

    /// mixtral, phimoe (and qwen3_moe with use_sliding_window): transformers masks every layer with
    /// sliding_window whenever it is set.
    var windowOnEveryLayer: [Int: Int] {
        guard let w = slidingWindow, w > 0 else { return [:] }
        return Dictionary(uniqueKeysWithValues: (0..<numHiddenLayers).map { ($0, w) })
    }

    /// Windows on the layers `layer_types` marks "sliding_attention", or, for configs written before
    /// layer_types existed, on the layers the family's config class would mark.
    func windowsFromLayerTypes(default sliding: (Int) -> Bool) -> [Int: Int] {
        guard let w = slidingWindow, w > 0 else { return [:] }
        let types = layerTypes ?? (0..<numHiddenLayers).map { sliding($0) ? "sliding_attention" : "full_attention" }
        return Dictionary(uniqueKeysWithValues: types.enumerated().filter { $0.element.sameBytes(as: "sliding_attention") }.map { ($0.offset, w) })
    }

    /// Grouped-query attention with rotate-half RoPE over the whole head, as most families configure it.
    func groupedAttention(
        scaling: Float? = nil, ropeLayout: RopeLayout = .halves, windows: [Int: Int] = [:]
    ) throws(MoESlimError) -> (AttentionSpec, RopeSpec) {
        let dim = resolvedHeadDim
        var attention = AttentionSpec(
            kind: .grouped, numHeads: numAttentionHeads, numKeyValueHeads: numKeyValueHeads ?? numAttentionHeads,
            headDim: dim, scaling: scaling ?? 1 / Float(dim).squareRoot())
        attention.slidingWindows = windows
        let rope = try self.rope.spec(rotaryDim: Int(Double(dim) * (self.rope.partialRotaryFactor ?? 1)), layout: ropeLayout,
                                      maxPositions: maxPositionEmbeddings)
        return (attention, rope)
    }

    var eps: Float { Float(rmsNormEps ?? 1e-6) }

    /// The same dimensions with the arithmetic-only settings (activation, rotary scaling) set to ones the forward
    /// pass implements, for the shape check.
    var forShapes: EngineDims {
        var dims = self
        dims.hiddenAct = "silu"
        dims.rope = rope.plain
        return dims
    }

    /// Families whose experts are intermediate_size wide and that have no other MLP.
    var expertsOfIntermediateSize: IntermediateSizes { IntermediateSizes(experts: intermediateSize) }

    /// Families with moe_intermediate_size experts, intermediate_size dense layers and `sharedExperts` shared
    /// experts each moe_intermediate_size wide, fused into one MLP (DeepSeek, GLM-4.5, ERNIE 4.5).
    func mixtureOfIntermediateSizes(sharedExperts: Int?) -> IntermediateSizes {
        IntermediateSizes(
            experts: moeIntermediateSize, shared: moeIntermediateSize.flatMap { width in sharedExperts.map { width * $0 } },
            dense: intermediateSize)
    }
}
