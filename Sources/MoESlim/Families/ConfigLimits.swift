/// config.json comes from strangers too. The families turn its integers into ranges, array sizes and sums, so
/// they are bounded here, before any family reads them: a hostile config is an error, never a trap in `0..<n`,
/// an overflowing addition or an allocation of billions of layers.
enum ConfigLimits {
    static let maxLayers = 10_000
    static let maxExperts = 1 << 16
    static let maxDimension = 1 << 24

    static let layerKeys: Set<String> = ["num_hidden_layers"]
    static let expertKeys: Set<String> = [
        "num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts",
        "num_experts_per_tok", "moe_k", "experts_per_token", "n_group", "topk_group", "n_shared_experts",
        "moe_num_shared_experts",
    ]
    static let dimensionKeys: Set<String> = [
        "hidden_size", "vocab_size", "num_attention_heads", "num_key_value_heads", "head_dim", "sliding_window",
        "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim", "decoder_sparse_step", "first_k_dense_replace",
        "moe_layer_freq", "interleave_moe_layer_step", "moe_layer_start_index", "moe_layer_interval",
        "intermediate_size", "moe_intermediate_size", "shared_expert_intermediate_size", "intermediate_size_mlp",
    ]

    static func check(_ config: JSONValue, path: String) throws(MoESlimError) {
        func bounded(_ key: String, _ range: ClosedRange<Int>) throws(MoESlimError) {
            guard let value = config[key], case .number(let text) = value else { return }
            guard let n = Int(text), range.contains(n) else {
                throw MoESlimError(.invalidConfig, "\(key) is \(text), outside \(range.lowerBound)...\(range.upperBound)", path: path)
            }
        }
        for key in layerKeys { try bounded(key, 0...maxLayers) }
        for key in expertKeys { try bounded(key, 0...maxExperts) }
        for key in dimensionKeys { try bounded(key, 0...maxDimension) }
        try bounded("moe_layer_end_index", -1...maxLayers)
        let layers = config["num_hidden_layers"]?.intValue ?? 0
        for key in ["moe_layers", "mlp_only_layers"] {
            guard let items = config[key]?.arrayValue else { continue }
            var seen = Set<Int>()
            for item in items {
                guard let layer = item.intValue, (0..<max(layers, 1)).contains(layer), seen.insert(layer).inserted else {
                    throw MoESlimError(.invalidConfig, "\(key) must list distinct layers in 0..<\(layers)", path: path)
                }
            }
        }
    }
}
