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
    /// config.json keys that hold the expert count and the experts per token, rewritten by prune.
    public var expertCountKey: String
    public var topKKey: String
    public var routing: RoutingRule
    public var embedTensor: String
    public var lmHeadTensor: String?
    /// Stored tensors that are buffers rather than parameters.
    public var buffers: Set<ByteName>
    /// The family's forward pass built from the same decoded config; nil when the family has none yet.
    public var forwardPass: ForwardPassRecipe?

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
