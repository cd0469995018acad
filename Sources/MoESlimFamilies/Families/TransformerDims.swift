/// The config keys every decoder-only family shares, decoded once so family files list only what differs.
public struct TransformerDims: Decodable, Sendable {
    public var numHiddenLayers: Int
    public var hiddenSize: Int
    public var vocabSize: Int
    public var numAttentionHeads: Int
    public var numKeyValueHeads: Int?
    public var headDim: Int?
    public var tieWordEmbeddings: Bool?
    public var slidingWindow: Int?
    public var layerTypes: [String]?

    enum CodingKeys: String, CodingKey {
        case numHiddenLayers = "num_hidden_layers"
        case hiddenSize = "hidden_size"
        case vocabSize = "vocab_size"
        case numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads"
        case headDim = "head_dim"
        case tieWordEmbeddings = "tie_word_embeddings"
        case slidingWindow = "sliding_window"
        case layerTypes = "layer_types"
    }

    /// Grouped-query attention as most families configure it; MLA families build their own.
    func groupedAttention(slidingLayers: Set<Int> = []) -> AttentionShape {
        let dim = headDim ?? hiddenSize / max(numAttentionHeads, 1)
        return AttentionShape(
            kind: .grouped, numHeads: numAttentionHeads, numKeyValueHeads: numKeyValueHeads ?? numAttentionHeads,
            queryKeyHeadDim: dim, valueHeadDim: dim, slidingWindow: slidingLayers.isEmpty ? nil : slidingWindow,
            slidingLayers: slidingLayers)
    }

    var allLayers: [Int] { Array(0..<numHiddenLayers) }

    /// Layers whose `layer_types` entry marks a windowed attention.
    var windowedLayers: Set<Int> {
        guard let layerTypes, let w = slidingWindow, w > 0 else { return [] }
        return Set(layerTypes.indices.filter { layerTypes[$0].sameBytes(as: "sliding_attention") })
    }
}

/// The whole config of families that need nothing beyond the shared keys.
struct PlainMoEConfig: Decodable, EngineConfigured {
    var dims: TransformerDims
    var experts: ExpertKeys
    var engine: EngineDims

    init(from decoder: Decoder) throws {
        dims = try TransformerDims(from: decoder)
        experts = try ExpertKeys(from: decoder)
        engine = try EngineDims(from: decoder)
    }
}

/// Reads the expert-count and top-k keys, whose names differ between families and between transformers
/// versions (qwen3_moe: num_experts or num_local_experts).
package struct ExpertKeys: Decodable {
    package static let countKeys = ["num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts"]
    package static let topKKeys = ["num_experts_per_tok", "moe_k", "experts_per_token", "moe_topk", "moe_top_k"]

    package var count: Int
    var countKey: String
    package var topK: Int
    package var topKKey: String

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// For a family whose config spells the top-k with a key only it uses (gemma4's top_k_experts): the family
    /// reads the keys itself and names them here.
    package init(count: Int, countKey: String, topK: Int, topKKey: String) {
        self.count = count
        self.countKey = countKey
        self.topK = topK
        self.topKKey = topKKey
    }

    package init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        func first(_ keys: [String]) throws -> (Int, String) {
            for k in keys {
                if let v = try c.decodeIfPresent(Int.self, forKey: AnyKey(stringValue: k)) { return (v, k) }
            }
            throw DecodingError.keyNotFound(AnyKey(stringValue: keys[0]), .init(codingPath: [], debugDescription: "missing"))
        }
        (count, countKey) = try first(Self.countKeys)
        (topK, topKKey) = try first(Self.topKKeys)
    }
}

extension FamilyLayout {
    init(
        dims: TransformerDims, experts: ExpertKeys, attention: AttentionShape? = nil, tiedByDefault: Bool = false,
        routing: RoutingRule, moeLayers: [Int], names: TensorNames,
        router: [(name: String, axis: Int, required: Bool)]? = nil
    ) {
        self.init(
            numLayers: dims.numHiddenLayers, hiddenSize: dims.hiddenSize, vocabSize: dims.vocabSize,
            attention: attention ?? dims.groupedAttention(slidingLayers: dims.windowedLayers),
            tiedEmbeddings: dims.tieWordEmbeddings ?? tiedByDefault,
            expertCountKey: experts.countKey, topKKey: experts.topKKey, numExperts: experts.count, topK: experts.topK,
            routing: routing, moeLayers: moeLayers, names: names, router: router ?? [(names[.router], 0, true)])
    }
}

extension RoutingRule {
    package static func softmax(normalize: Bool) -> RoutingRule {
        RoutingRule(scoring: .softmax, normalizeTopK: normalize, groups: nil, topkGroups: nil, scalingFactor: 1)
    }
}
