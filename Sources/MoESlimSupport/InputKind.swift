/// What an input file is to moe-slim. The kind names the file in errors, picks the error code, and says how
/// many bytes a file that is read whole may hold; shards, data files and the files prune copies are mapped or
/// streamed, so only the regular-file rule applies to them.
package enum InputKind: Sendable {
    case config, adapterConfig, index, plan, tokenizer, counts
    case shard, data, companion

    /// nil for files that are never held whole in memory.
    var sizeLimit: Int? {
        switch self {
        case .config: return InputLimits.configBytes
        case .adapterConfig: return InputLimits.adapterConfigBytes
        case .index: return InputLimits.indexBytes
        case .plan: return InputLimits.planBytes
        case .tokenizer: return InputLimits.tokenizerBytes
        case .counts: return InputLimits.countsBytes
        case .shard, .data, .companion: return nil
        }
    }

    /// Bad content of this kind of file; a file of the wrong kind or size is bad content too.
    package var code: MoESlimError.Code {
        switch self {
        case .config: return .invalidConfig
        case .adapterConfig: return .invalidAdapter
        case .index: return .invalidIndex
        case .plan: return .invalidPlan
        case .tokenizer: return .invalidTokenizer
        case .counts: return .invalidCounts
        case .shard: return .invalidHeader
        case .data: return .invalidData
        case .companion: return .io
        }
    }

    /// For "over the 16 MiB limit for a config file".
    var noun: String {
        switch self {
        case .config: return "config file"
        case .adapterConfig: return "adapter config"
        case .index: return "safetensors index"
        case .plan: return "plan file"
        case .tokenizer: return "tokenizer"
        case .counts: return "counts file"
        case .shard: return "safetensors file"
        case .data: return "data file"
        case .companion: return "model folder file"
        }
    }
}
