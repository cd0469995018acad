/// The rows of the paper's Table 4, plus the two kinds of parameters Kaplan leaves out (norms and the odd
/// vector such as attention sinks), so that the columns add up to what transformers counts.
public enum Component: String, CaseIterable, Sendable {
    case embed
    case attentionQKV = "attention_qkv"
    case attentionMask = "attention_mask"
    case attentionProject = "attention_project"
    case moeFeedForward = "moe_feedforward"
    case moeGating = "moe_gating"
    case sharedExperts = "shared_experts"
    case denseFeedForward = "dense_feedforward"
    case deEmbed = "de_embed"
    case norms
    case other

    public var title: String {
        switch self {
        case .embed: return "Embed"
        case .attentionQKV: return "Attention: QKV"
        case .attentionMask: return "Attention: Mask"
        case .attentionProject: return "Attention: Project"
        case .moeFeedForward: return "MoE Feedforward"
        case .moeGating: return "MoE Gating"
        case .sharedExperts: return "Shared experts"
        case .denseFeedForward: return "Dense feedforward"
        case .deEmbed: return "De-embed"
        case .norms: return "Norms"
        case .other: return "Other"
        }
    }
}

enum TensorClassifier {
    /// Sorts every tensor into a component using the family-neutral description; names outside the MoE blocks
    /// are recognised by the module names all supported families share (self_attn, mlp, *norm*).
    /// Component of each tensor, with the MoE layer for routed-expert tensors (only they are partly active).
    static func classify(_ names: [String], _ model: ModelDescription) -> [String: (Component, Int?)] {
        var result: [String: (Component, Int?)] = [:]
        result.reserveCapacity(names.count)
        for layer in model.moeLayers {
            for r in layer.router { result[r.name] = (.moeGating, nil) }
            for name in layer.expertTensorNames { result[name] = (.moeFeedForward, layer.layer) }
            for name in layer.shared { result[name] = (.sharedExperts, nil) }
        }
        result[model.embedTensor] = (.embed, nil)
        if let head = model.lmHeadTensor { result[head] = (.deEmbed, nil) }
        for name in names where result[name] == nil {
            result[name] = (byName(name), nil)
        }
        return result
    }

    static func byName(_ name: String) -> Component {
        let parts = name.split(separator: ".")
        let isAttention = parts.contains { $0 == "self_attn" || $0 == "attention" || $0 == "attn" }
        if parts.contains(where: { $0.contains("norm") }) { return .norms }
        if isAttention {
            if parts.contains(where: { $0 == "o_proj" || $0 == "out_proj" || $0 == "dense" }) { return .attentionProject }
            if parts.contains(where: { $0.hasSuffix("_proj") || $0.hasSuffix("_proj_with_mqa") }) { return .attentionQKV }
            return .other
        }
        if parts.contains(where: { $0 == "mlp" || $0 == "feed_forward" || $0 == "block_sparse_moe" }) { return .denseFeedForward }
        return .other
    }
}
