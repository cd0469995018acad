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
