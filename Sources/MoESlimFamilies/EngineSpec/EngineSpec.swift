/// What the forward pass needs beyond `ModelDescription`: the numbers and tensor names a family file states,
/// so the engine itself never branches on model_type.
public struct EngineSpec: Sendable {
    public var normEps: Float
    /// granitemoe scales embeddings and both residual branches.
    public var embeddingMultiplier: Float = 1
    public var residualMultiplier: Float = 1
    public var rope: RopeSpec
    /// Layers that rotate with frequencies of their own (Step's rotary theta and partial factor per layer type).
    public var layerRopes: [Int: RopeSpec] = [:]
    /// Step's clamped SwiGLU per layer: the routed experts' bound, and the shared expert's and dense MLP's
    /// (silu(gate) capped at the bound, up clamped to ±bound); layers not listed are not clamped.
    public var expertLimits: [Int: Float] = [:]
    public var sharedLimits: [Int: Float] = [:]
    public var attention: AttentionSpec
    public var norm: NormKind = .rms
    /// The family's name table, the same one its layout reads: the engine asks it for every tensor.
    package let names: TensorNames
    /// How group-limited routers rank their groups (only used when the routing rule has groups).
    public var groupScore: GroupScore = .sumOfTopTwo
    /// Routers whose selection no `RoutingRule` describes.
    public var selection: Selection = .routingRule
    public var experts: ExpertFormat
    /// Llama-4 multiplies each expert's input, not its output, by the gate weight.
    public var gateScalesExpertInput = false
    /// The widths the config gives each kind of MLP, which the shape check holds the stored tensors to.
    public var intermediate = IntermediateSizes()
    /// The constant added to the sum a router renormalises its top-k weights by; nil for transformers' usual one
    /// (1e-20 for sigmoid routers, DeepSeek-V3's, and none for softmax routers). LFM2 adds 1e-6.
    public var renormalizationEpsilon: Float?
    /// granitemoe divides the lm_head output by logits_scaling; a division, as transformers does, not a
    /// multiplication by the reciprocal, so logits match to the last bit.
    public var logitsDivisor: Float = 1
    /// LongCat-Flash's decoder layer: attention then a dense MLP, once per name table here (each sublayer's norms,
    /// attention and `denseMLP`), with the MoE block reading the first sublayer's MLP input and its output added
    /// after the last sublayer. Nil for the usual layer of one attention and one MLP or MoE block.
    package var shortcutSublayers: [TensorNames]?
    /// The gated MLPs' activation: the routed experts', the shared experts' and the dense MLP's.
    public var activation: Activation = .silu
    /// A decoder layer whose dense MLP (the `sharedExperts` folder) runs beside the routed experts rather than inside
    /// the MoE block (Gemma 4): the MLP reads the `mlpNorm` of the residual stream, the experts its
    /// `expertsInputNorm` while the router reads the residual stream itself; each output is normalised
    /// (`denseMLPOutputNorm`, `expertsOutputNorm`), the two are added, and the sum goes through `mlpOutputNorm`.
    public var expertsBesideDenseMLP = false
    /// The logits' tanh soft cap, cap · tanh(logits / cap) (Gemma's final_logit_softcapping); nil for none.
    public var logitSoftcap: Float?

    init(normEps: Float, rope: RopeSpec, attention: AttentionSpec, names: TensorNames, experts: ExpertFormat) {
        self.normEps = normEps
        self.rope = rope
        self.attention = attention
        self.names = names
        self.experts = experts
    }

    /// Norm modules relative to "model.layers.<L>." (their .weight, and .bias for LayerNorm).
    public var inputNorm: String { names[.attentionNorm] }
    public var postAttentionNorm: String { names[.mlpNorm] }
    /// Norms applied to the attention's and the MLP's outputs before the residual add, when the family has them.
    public var attentionOutputNorm: String? { names.name(.attentionOutputNorm) }
    public var mlpOutputNorm: String? { names.name(.mlpOutputNorm) }
    /// The norm after the last layer, of the same kind as the layers' norms (LayerNorm with bias for phimoe).
    public var finalNorm: String { names[.finalNorm] }
    /// The MoE block relative to the layer prefix ("mlp." or "block_sparse_moe.").
    public var moePath: String { names[.moeBlock] }

    public var router: RouterNames {
        var router = RouterNames(weight: names[.router], bias: names.name(.routerBias), correctionBias: names.name(.routerCorrectionBias))
        router.inputScale = names.name(.routerInputScale)
        router.expertScale = names.name(.routerExpertScale)
        return router
    }
    /// The one-element factor on the residual stream after each layer, relative to the layer's prefix, when the
    /// family has one.
    public var layerScale: String? { names.name(.layerScale) }
    /// Shared experts and their gate, when the family has them: always run, never pruned.
    public var sharedExpert: SharedExpertSpec? {
        names.name(.sharedExperts).map { SharedExpertSpec(mlp: names.gatedMLP(prefix: $0), gate: names.name(.sharedExpertGate).map { $0 + "weight" }) }
    }
    /// The MLP of the dense (non-MoE) layers.
    public var denseMLP: GatedMLPNames { names.gatedMLP(prefix: names[.denseMLP]) }
}

/// Intermediate widths by MLP kind, as each family's modules are built from its config; nil where the config
/// states none, and the shape check then takes the width the gate holds.
public struct IntermediateSizes: Sendable {
    public var experts: Int?
    public var shared: Int?
    public var dense: Int?
}

public struct RouterNames: Sendable {
    public var weight: String
    public var bias: String?
    /// DeepSeek-V3's e_score_correction_bias: shifts selection only, never the gate weights.
    public var correctionBias: String?
    /// Gemma 4: the router reads rms(x) · inputScale / √hidden (an RMS norm without weight, then this vector).
    public var inputScale: String?
    /// Gemma 4: each chosen weight, after the top-k renormalisation, times its expert's entry of this vector.
    public var expertScale: String?

    public init(weight: String, bias: String? = nil, correctionBias: String? = nil) {
        self.weight = weight
        self.bias = bias
        self.correctionBias = correctionBias
    }
}

public enum NormKind: Sendable {
    case rms
    /// Qwen3-Next's zero-centred RMSNorm: the normalised value times 1 + weight.
    case zeroCenteredRMS
    /// LayerNorm with weight and bias (phimoe), eps from rms_norm_eps as transformers passes it.
    case layer
}

public enum Activation: Sendable {
    case silu
    /// GELU with transformers' tanh approximation (gelu_pytorch_tanh).
    case geluTanh
}

public enum Selection: Sendable {
    case routingRule
    /// PhiMoE's sparsemixer at inference: the best expert, then the best of the rest, each weighted by a
    /// softmax over the logits within a relative `2·jitterEps` of it.
    case sparseMixer(jitterEps: Float)
}

public enum GroupScore: Sendable {
    /// DeepSeek-V3 / GLM-4.5: the sum of the group's two best selection scores.
    case sumOfTopTwo
    /// DeepSeek-V2's group_limited_greedy: the group's best probability.
    case maximum
}
