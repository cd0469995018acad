import MoESlimSupport

/// The values of the config keys every family shares, refused where transformers refuses them (its config
/// classes, `ACT2FN` and modeling_rope_utils' rope validation), so that a config transformers cannot load is
/// never described, pruned or run here. `ConfigLimits` has bounded the integers already; this checks what they
/// mean together. Family-specific keys are checked in each family's `layout`.
enum ConfigValues {
    /// transformers' `ACT2FN` keys: any other `hidden_act` is a KeyError when the model is built.
    static let activations: Set<String> = [
        "gelu", "gelu_10", "gelu_fast", "gelu_new", "gelu_python", "gelu_pytorch_tanh", "gelu_accurate", "laplace",
        "leaky_relu", "linear", "mish", "quick_gelu", "relu", "relu2", "relu6", "sigmoid", "silu", "swish", "tanh",
        "prelu", "xielu",
    ]

    /// Sizes a Linear or an embedding is built with: 0 or less builds nothing transformers can load into.
    static let positiveKeys = [
        "hidden_size", "vocab_size", "num_attention_heads", "intermediate_size", "moe_intermediate_size", "head_dim",
    ]

    static let epsilonKeys = ["rms_norm_eps", "layer_norm_eps"]

    static func check(_ config: JSONValue, path: String, family: ConfigBounds) throws(MoESlimError) {
        func fail(_ message: String) -> MoESlimError { MoESlimError(.invalidConfig, message, path: path) }
        for key in positiveKeys + family.positiveKeys {
            guard let value = config[key], value != .null else { continue }
            guard let n = value.intValue, n >= 1 else { throw fail("\(key) is \(literal(value)); it must be a positive integer") }
        }
        if let heads = config["num_attention_heads"]?.intValue, let value = config["num_key_value_heads"], value != .null {
            guard let kv = value.intValue, kv >= 1, heads % kv == 0 else {
                throw fail("num_key_value_heads is \(literal(value)); it must be a positive divisor of num_attention_heads (\(heads))")
            }
        }
        if let value = config["hidden_act"], value != .null, !family.replacedKeys.contains(where: { $0.sameBytes(as: "hidden_act") }) {
            guard let name = value.stringValue, activations.contains(where: { $0.utf8.elementsEqual(name.utf8) }) else {
                throw fail("hidden_act is \(literal(value)), which transformers does not know (ACT2FN: \(activations.sorted().joined(separator: ", ")))")
            }
        }
        for key in epsilonKeys {
            guard let value = config[key], value != .null else { continue }
            guard let eps = value.doubleValue, eps.isFinite, eps >= 0 else {
                throw fail("\(key) is \(literal(value)); it must be a non-negative number")
            }
        }
        if let value = config["layer_types"], value != .null, let layers = config["num_hidden_layers"]?.intValue {
            guard let types = value.arrayValue, types.allSatisfy({ $0.stringValue != nil }), types.count == layers else {
                throw fail("layer_types must list one attention type per layer (num_hidden_layers is \(layers))")
            }
        }
        try RopeValues.check(config, path: path, perLayer: family.perLayerNumberKeys)
    }

    /// A config value as it is written, for messages: strings quoted, so `"1e-5"` shows it is text, and escaped,
    /// so a control character cannot forge terminal output.
    static func literal(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return String(b)
        case .number(let text): return text
        case .string(let s): return JSONValue.quote(s)
        case .array: return "a list"
        case .object: return "an object"
        }
    }
}

/// transformers' rope validation: each rope type's required keys (a missing one is a KeyError), numbers where
/// numbers belong, and only the rope types it can build.
enum RopeValues {
    static let required: [String: [String]] = [
        "default": [],
        "linear": ["factor"],
        "dynamic": ["factor"],
        "yarn": ["factor"],
        "longrope": ["short_factor", "long_factor"],
        "llama3": ["factor", "original_max_position_embeddings", "low_freq_factor", "high_freq_factor"],
    ]
    static let numbers = [
        "rope_theta", "factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings", "beta_fast",
        "beta_slow", "mscale", "mscale_all_dim", "attention_factor", "partial_rotary_factor", "long_mscale", "short_mscale",
    ]

    static func check(_ config: JSONValue, path: String, perLayer: [String] = []) throws(MoESlimError) {
        func fail(_ message: String) -> MoESlimError { MoESlimError(.invalidConfig, message, path: path) }
        if let theta = config["rope_theta"], theta != .null, theta.doubleValue == nil {
            let listed = perLayer.contains { $0.sameBytes(as: "rope_theta") }
            guard listed, let items = theta.arrayValue, items.allSatisfy({ $0.doubleValue?.isFinite == true }) else {
                throw fail("rope_theta is \(ConfigValues.literal(theta)); it must be a number\(listed ? " or a list of numbers" : "")")
            }
        }
        try checkPartialRotary(config["partial_rotary_factor"], key: "partial_rotary_factor", path: path)
        for key in ["rope_parameters", "rope_scaling"] {
            guard let section = config[key], section != .null else { continue }
            guard section.objectMembers != nil else { throw fail("\(key) is \(ConfigValues.literal(section)); it must be an object") }
            let typeValue = section["rope_type"] ?? section["type"]
            guard let type = typeValue?.stringValue ?? (key == "rope_parameters" ? "default" : nil) else {
                throw fail("\(key) has no rope_type")
            }
            guard let needed = required.first(where: { $0.key.sameBytes(as: type) })?.value else {
                throw fail("\(key).rope_type is \(JSONValue.quote(type)), which transformers does not know (\(required.keys.sorted().joined(separator: ", ")))")
            }
            for field in needed where section[field] == nil || section[field] == .null {
                throw fail("\(key) with rope_type '\(type)' needs '\(field)'")
            }
            for field in numbers {
                guard let value = section[field], value != .null else { continue }
                guard let number = value.doubleValue, number.isFinite else {
                    throw fail("\(key).\(field) is \(ConfigValues.literal(value)); it must be a number")
                }
            }
            try checkPartialRotary(section["partial_rotary_factor"], key: key + ".partial_rotary_factor", path: path)
            for field in ["short_factor", "long_factor"] {
                guard let value = section[field], value != .null else { continue }
                guard let items = value.arrayValue, items.allSatisfy({ $0.doubleValue?.isFinite == true }) else {
                    throw fail("\(key).\(field) must be a list of numbers")
                }
            }
        }
    }

    /// The fraction of each head that rotates: the rotary width is head_dim times it, so outside (0, 1] there is
    /// no such width.
    private static func checkPartialRotary(_ value: JSONValue?, key: String, path: String) throws(MoESlimError) {
        guard let value, value != .null else { return }
        guard let fraction = value.doubleValue, fraction > 0, fraction <= 1 else {
            throw MoESlimError(.invalidConfig, "\(key) is \(ConfigValues.literal(value)); it must be a number in (0, 1]", path: path)
        }
    }
}
