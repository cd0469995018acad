public struct AttentionSpec: Sendable {
    public enum QKNorm: Sendable {
        case none
        /// qwen3_moe: RMSNorm over each head's dimensions.
        case perHead
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
}
