import MoESlimSupport

/// config.json comes from strangers too. The families turn its integers into ranges, array sizes and sums, so
/// they are bounded here, before any family reads them: a hostile config is an error, never a trap in `0..<n`,
/// an overflowing addition or an allocation of billions of layers. The keys every family reads are listed here;
/// each family lists its own in its `ConfigBounds`.
enum ConfigLimits {
    static let maxLayers = 10_000
    static let maxExperts = 1 << 16
    static let maxDimension = 1 << 24

    static let layerKeys = ["num_hidden_layers"]
    /// The spellings `ExpertKeys` reads.
    static let expertKeys = ExpertKeys.countKeys + ExpertKeys.topKKeys
    static let dimensionKeys = [
        "hidden_size", "vocab_size", "num_attention_heads", "num_key_value_heads", "head_dim", "sliding_window",
        "intermediate_size", "moe_intermediate_size",
    ]

    static func check(_ config: JSONValue, path: String, family: ConfigBounds) throws(MoESlimError) {
        func bounded(_ key: String, _ range: ClosedRange<Int>) throws(MoESlimError) {
            guard let value = config[key], case .number(let text) = value else { return }
            guard let n = Int(text), range.contains(n) else {
                throw MoESlimError(.invalidConfig, "\(key) is \(text), outside \(range.lowerBound)...\(range.upperBound)", path: path)
            }
        }
        for key in layerKeys + family.layerCountKeys { try bounded(key, 0...maxLayers) }
        for key in expertKeys + family.expertKeys { try bounded(key, 0...maxExperts) }
        for key in dimensionKeys + family.dimensionKeys { try bounded(key, 0...maxDimension) }
        for key in family.layerIndexKeys { try bounded(key, -1...maxLayers) }
        let layers = config["num_hidden_layers"]?.intValue ?? 0
        for key in family.layerListKeys {
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

/// The integer keys a family reads beyond the shared ones, stated in its file and bounded before it decodes them.
public struct ConfigBounds: Sendable {
    /// Counts of experts or expert groups: 0...maxExperts.
    var expertKeys: [String] = []
    /// Counts of decoder layers under another name than num_hidden_layers (LongCat-Flash's num_layers):
    /// 0...maxLayers.
    var layerCountKeys: [String] = []
    /// Widths, steps and layer counts: 0...maxDimension.
    var dimensionKeys: [String] = []
    /// A layer index where -1 means the last layer.
    var layerIndexKeys: [String] = []
    /// Lists of distinct layers in 0..<num_hidden_layers.
    var layerListKeys: [String] = []
    /// Sizes a Linear is built with, which must be at least 1 when present.
    var positiveKeys: [String] = []
    /// Shared keys this family's config class also reads as one number per layer (Step's rope_theta), where the
    /// shared check otherwise wants one number.
    var perLayerNumberKeys: [String] = []
    /// Shared keys whose value this family's config class replaces whatever the file says (Step sets hidden_act
    /// to silu), so the shared check of their value does not apply.
    var replacedKeys: [String] = []
}
