public struct AttentionSpec: Sendable {
    public enum QKNorm: Sendable {
        case none
        /// qwen3_moe: RMSNorm over each head's dimensions.
        case perHead
        /// hunyuan_v1_moe: the same per-head RMSNorm, applied to the rotated queries and keys.
        case perHeadAfterRope
        /// olmoe: RMSNorm over all heads' query (or key) projections at once.
        case whole
        /// Llama-4: weightless RMS ("L2") norm per head, after RoPE, on the layers that rotate.
        case unweightedAfterRope
    }

    public enum Kind: Sendable {
        case grouped
        case multiLatent(MultiLatentSpec)
    }

    public var kind: Kind
    public var numHeads: Int
    public var numKeyValueHeads: Int
    public var headDim: Int
    public var scaling: Float
    public var qkNorm: QKNorm = .none
    /// Window per layer for sliding-window layers: key j is visible from query i when i - j < window.
    public var slidingWindows: [Int: Int] = [:]
    /// Chunk per layer for chunked layers (Llama-4): key j is visible from query i when both lie in the same
    /// block of `chunk` positions.
    public var chunks: [Int: Int] = [:]
    /// Layers that skip RoPE (Llama-4's NoPE layers); all others rotate.
    public var noRopeLayers: Set<Int> = []
    /// Llama-4 scales NoPE layers' queries by 1 + scale·log1p(floor((position + 1) / floorScale)).
    public var temperatureTuning: (floorScale: Float, scale: Float)?
    /// The attention output multiplied by sigmoid(gate) before o_proj, where the gate comes from.
    public var outputGate: OutputGate?
    /// Query heads per layer where a layer has its own count (Step's sliding-window layers); the key-value heads
    /// and head width stay.
    public var headsPerLayer: [Int: Int] = [:]
    /// Step: each head's attention output is multiplied by sigmoid of its own row of the `attentionGate`
    /// projection of the layer input (one scalar per head and token) before o_proj.
    public var headGate = false
    /// Head width and key-value heads per layer where a layer has its own (Gemma 4's full-attention layers).
    public var headDimsPerLayer: [Int: Int] = [:]
    public var keyValueHeadsPerLayer: [Int: Int] = [:]
    /// Layers without v_proj whose values are the keys' projection (before the key norm and RoPE): Gemma 4's
    /// full-attention layers with attention_k_eq_v.
    public var keysAsValuesLayers: Set<Int> = []
    /// Gemma 4: the values go through a weightless RMS norm per head.
    public var valueNorm = false
    /// Qwen3-Next's q/k norms are zero-centred: they multiply by 1 + weight.
    public var normWeightOffset: Float = 0
    /// Hybrid models' Gated DeltaNet layers, which take the place of attention on the layers it lists.
    public var linear: LinearAttentionSpec?
    /// Hybrid models' gated short-convolution layers (LFM2), which take the place of attention on the layers it
    /// lists.
    public var shortConvolution: ShortConvolutionSpec?
    /// Attention that equals dense causal attention only while a sequence has at most `tokens` positions
    /// (DeepSeek Sparse Attention keeps each query's index_topk best keys): longer sequences are refused.
    public var denseUpTo: DenseLimit?

    public enum OutputGate: Sendable {
        /// Qwen3-Next: q_proj is twice as wide, each head's query followed by its output gate.
        case inQuery
        /// AFMoE: a projection of its own (the `attentionGate` role), [heads·headDim, hidden].
        case ownProjection
    }

    public struct DenseLimit: Sendable {
        public var tokens: Int
        /// The config key the limit comes from, and why longer sequences differ, for the refusal.
        public var key: String
        public var reason: String
    }

    /// The query heads of `layer`.
    public func heads(_ layer: Int) -> Int { headsPerLayer[layer] ?? numHeads }
    /// The head width of `layer`.
    public func headWidth(_ layer: Int) -> Int { headDimsPerLayer[layer] ?? headDim }
    /// The key-value heads of `layer`.
    public func keyValueHeads(_ layer: Int) -> Int { keyValueHeadsPerLayer[layer] ?? numKeyValueHeads }

    public init(kind: Kind, numHeads: Int, numKeyValueHeads: Int, headDim: Int, scaling: Float) {
        self.kind = kind
        self.numHeads = numHeads
        self.numKeyValueHeads = numKeyValueHeads
        self.headDim = headDim
        self.scaling = scaling
    }
}

/// DeepSeek's multi-head latent attention widths.
public struct MultiLatentSpec: Sendable {
    public var qLoraRank: Int?
    public var kvLoraRank: Int
    public var nopeDim: Int
    public var ropeDim: Int
    public var valueDim: Int
    /// transformers builds q_a_layernorm and kv_a_layernorm without passing rms_norm_eps.
    public var latentNormEps: Float = 1e-6
    /// LongCat-Flash's LoRA scaling: the queries times √(hidden / q_lora_rank), the normalised key-value latent
    /// times √(hidden / kv_lora_rank) before kv_b_proj; 1 in DeepSeek.
    public var queryScale: Float = 1
    public var latentScale: Float = 1
}

/// Gated DeltaNet linear attention (Qwen3-Next, Qwen3.5) on `layers`: widths, the short convolution's kernel, and
/// how the input projections are stored.
public struct LinearAttentionSpec: Sendable {
    public enum Projections: Sendable {
        /// Qwen3-Next: in_proj_qkvz and in_proj_ba, each key head's q, k, v, z (and b, a) rows side by side.
        case interleaved
        /// Qwen3.5: in_proj_qkv (all q rows, all k rows, all v rows), in_proj_z, in_proj_b, in_proj_a.
        case separate
    }

    public var layers: Set<Int>
    public var keyHeads: Int
    public var valueHeads: Int
    public var keyDim: Int
    public var valueDim: Int
    public var convKernel: Int
    public var projections: Projections

    /// q, k and v side by side: the channels of the short convolution.
    package var convChannels: Int { 2 * keyHeads * keyDim + valueHeads * valueDim }
}

/// LFM2's gated short convolution on `layers`: in_proj to B, C and x (hidden_size each), B·x through a causal
/// depthwise convolution of `kernel` taps over each sequence, times C, then out_proj.
public struct ShortConvolutionSpec: Sendable {
    public var layers: Set<Int>
    public var kernel: Int
}
