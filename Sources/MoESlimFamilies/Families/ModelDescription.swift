import MoESlimSupport

/// A family-neutral picture of a checkpoint: which layers route tokens to experts, and which tensors hold
/// the routers, the experts and the shared experts. Every command past the family files works only on this.
public struct ModelDescription: Sendable {
    public var modelType: String
    public var numLayers: Int
    public var hiddenSize: Int
    public var vocabSize: Int
    public var attention: AttentionShape
    public var tiedEmbeddings: Bool
    public var moeLayers: [MoELayer]
    /// config.json keys that hold the expert count and the experts per token, rewritten by prune. With
    /// zero-compute experts the expert-count key counts only the experts with weights.
    public var expertCountKey: String
    public var topKKey: String
    /// The config.json key that counts the zero-compute experts (LongCat-Flash's zero_expert_num), rewritten by
    /// prune; nil for families without them.
    public var zeroComputeKey: String?
    public var routing: RoutingRule
    public var embedTensor: String
    public var lmHeadTensor: String?
    /// Stored tensors that are buffers rather than parameters.
    public var buffers: Set<ByteName>
    /// The family's forward pass built from the same decoded config; nil when the family has none yet.
    public var forwardPass: ForwardPassRecipe?
    /// Decoder layer L's tensors are under "<layersPrefix><L>.".
    public var layersPrefix: String = TensorNames.standardLayersPrefix
    /// The config.json object that holds the language model's keys (a wrapper's "text_config"), or nil for the
    /// top level: prune rewrites the expert count there.
    public var configSection: String?
    /// A multi-token-prediction block the checkpoint stores, with experts of its own that no plan covers.
    public var multiTokenPrediction: MultiTokenPrediction?

    public func moeLayer(_ index: Int) -> MoELayer? { moeLayers.first { $0.layer == index } }

    public var maxExperts: Int { moeLayers.map(\.numExperts).max() ?? 0 }
}

/// Attention dimensions the FLOPs formulas need (Kaplan's d_attn and the mask term's n_ctx scaling).
public struct AttentionShape: Sendable, Equatable {
    public enum Kind: String, Sendable { case grouped, multiLatent }
    public var kind: Kind
    public var numHeads: Int
    public var numKeyValueHeads: Int
    /// Width of one head's query-key dot product (MLA: nope + rope dims).
    public var queryKeyHeadDim: Int
    public var valueHeadDim: Int
    /// Sliding-window layers attend to at most this many positions.
    public var slidingWindow: Int?
    public var slidingLayers: Set<Int>
    /// Hybrid models' linear-attention layers, which keep a fixed-size state instead of attending to the context.
    public var linear: LinearAttentionShape? = nil
    /// Attention sublayers in one decoder layer: LongCat-Flash's layers each attend twice.
    public var perLayer: Int = 1
}

/// Qwen3-Next's and Qwen3.5's `mtp.` block: a decoder layer with its own routed experts beyond
/// `num_hidden_layers`, used for speculative decoding and ignored by transformers.
public struct MultiTokenPrediction: Sendable, Equatable {
    /// Where its tensors are: one prefix, or one per layer where the block is several decoder layers past the
    /// last (Step-3.x's three, model.layers.<num_hidden_layers + i>.).
    public var prefixes: [String]
    /// The config key that counts the block's layers (`mtp_num_hidden_layers`), set to 0 when it is dropped.
    public var configKey: String
    public var tensors: Int
}

/// Gated DeltaNet layers (Qwen3-Next, Qwen3.5): per token each value head reads its d_k × d_v state twice (the
/// delta and the query) and writes it once, whatever the context length.
public struct LinearAttentionShape: Sendable, Equatable {
    public var layers: Set<Int>
    public var valueHeads: Int
    public var keyHeadDim: Int
    public var valueHeadDim: Int
}

/// How a router turns logits into the chosen experts: the knowledge counting and group-aware pruning need.
public struct RoutingRule: Sendable, Equatable {
    public enum Scoring: String, Sendable { case softmax, sigmoid, softmaxAfterTopK }
    public var scoring: Scoring
    public var normalizeTopK: Bool
    public var groups: Int?
    public var topkGroups: Int?
    public var scalingFactor: Double
}

public struct MoELayer: Sendable, Equatable {
    public enum ExpertStorage: Sendable, Equatable {
        /// `experts.<e>.<rest>` tensors; `perExpert[e]` lists expert e's tensor names.
        case separate(prefix: String, perExpert: [[String]])
        /// 3D (or more) tensors with one slice per expert on `axis`.
        case fused([SlicedTensor])
    }

    public var layer: Int
    public var numExperts: Int
    public var topK: Int
    /// Router weight, bias, score-correction bias: each sliced on its expert axis when experts go.
    public var router: [SlicedTensor]
    public var experts: ExpertStorage
    /// Shared experts and their gate: always kept, copied byte for byte.
    public var shared: [String]
    /// Experts that are the identity and have no weights (LongCat-Flash's zero experts): the router's last rows,
    /// ids `weightedExperts..<numExperts`. A token sent to one costs no FLOPs.
    public var zeroComputeExperts: Int = 0

    /// The experts with tensors, ids 0..<weightedExperts.
    public var weightedExperts: Int { numExperts - zeroComputeExperts }

    public var expertTensorNames: [String] {
        switch experts {
        case .separate(_, let perExpert): return perExpert.flatMap { $0 }
        case .fused(let tensors): return tensors.map(\.name)
        }
    }
}

/// A tensor with one slice per expert along `axis`.
public struct SlicedTensor: Sendable, Equatable {
    public var name: String
    public var axis: Int
    public init(name: String, axis: Int) {
        self.name = name
        self.axis = axis
    }
}
