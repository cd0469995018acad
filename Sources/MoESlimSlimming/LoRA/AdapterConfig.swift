import Foundation
import MoESlimSupport

/// The parts of PEFT's LoraConfig that decide what a merge computes, read from adapter_config.json. Anything that
/// would make the saved factors mean something other than `W + scale·B·A` is refused here, before any tensor is read.
struct AdapterConfig: Sendable {
    enum Targets: Sendable {
        case names([String])
        case regex(String)
        case none
    }

    var rank: Int
    var alpha: Double
    var useRslora: Bool
    var useDora: Bool
    var fanInFanOut: Bool
    var loraBias: Bool
    var rankPattern: [(key: String, value: Int)]
    var alphaPattern: [(key: String, value: Double)]
    var targetModules: Targets
    var excludeModules: Targets
    var targetParameters: [String]
    var modulesToSave: [String]
    var layersToTransform: [Int]?
    var layersPattern: [String]

    init(_ json: JSONValue, path: String) throws(MoESlimError) {
        func fail(_ message: String) -> MoESlimError { MoESlimError(.invalidAdapter, message, path: path) }
        guard json.objectMembers != nil else { throw fail("adapter_config.json is not a JSON object") }
        let type = json["peft_type"]?.stringValue ?? "LORA"
        guard type == "LORA" else {
            throw fail("peft_type \(type) is not supported: merge-lora folds LoRA (and DoRA) adapters only")
        }
        if let initialisation = json["init_lora_weights"]?.stringValue?.lowercased(),
           ["pissa", "olora", "corda", "lora_ga"].contains(where: { initialisation.hasPrefix($0) }) {
            throw fail("init_lora_weights '\(initialisation)' changes the base weights at training time; save the adapter with PEFT's path_initial_model_for_weight_conversion (convert_pissa_to_lora) so it applies to the original base")
        }
        for unsupported in ["trainable_token_indices", "layer_replication", "arrow_config", "velora_config", "kasa_config", "monteclora_config", "use_bdlora", "alora_invocation_tokens"] {
            if let value = json[unsupported], value != .null, value != .bool(false), value != .object([]), value != .array([]) {
                throw fail("\(unsupported) is set; adapters using it are not supported")
            }
        }
        if json["use_qalora"]?.boolValue == true { throw fail("use_qalora is set; QA-LoRA adapters are not supported") }
        guard let r = json["r"]?.intValue, r > 0 else { throw fail("r must be a positive integer") }
        rank = r
        guard let a = json["lora_alpha"]?.doubleValue else { throw fail("lora_alpha must be a number") }
        alpha = a
        useRslora = json["use_rslora"]?.boolValue ?? false
        useDora = json["use_dora"]?.boolValue ?? false
        fanInFanOut = json["fan_in_fan_out"]?.boolValue ?? false
        loraBias = json["lora_bias"]?.boolValue ?? false
        rankPattern = try Self.pattern(json["rank_pattern"], name: "rank_pattern", path: path, expected: "a positive integer") {
            $0.intValue.flatMap { $0 > 0 ? $0 : nil }
        }
        alphaPattern = try Self.pattern(json["alpha_pattern"], name: "alpha_pattern", path: path, expected: "a valid number") { $0.doubleValue }
        targetModules = try Self.targets(json["target_modules"], name: "target_modules", path: path)
        excludeModules = try Self.targets(json["exclude_modules"], name: "exclude_modules", path: path)
        targetParameters = try Self.strings(json["target_parameters"], name: "target_parameters", path: path)
        modulesToSave = try Self.strings(json["modules_to_save"], name: "modules_to_save", path: path)
        switch json["layers_to_transform"] {
        case nil, .null?: layersToTransform = nil
        case .number?:
            guard let i = json["layers_to_transform"]?.intValue else { throw fail("layers_to_transform must be integers") }
            layersToTransform = [i]
        case .array(let items)?:
            let ints = items.compactMap(\.intValue)
            guard ints.count == items.count else { throw fail("layers_to_transform must be integers") }
            layersToTransform = ints.isEmpty ? nil : ints
        default: throw fail("layers_to_transform must be an integer or a list")
        }
        switch json["layers_pattern"] {
        case .string(let s)?: layersPattern = s.isEmpty ? [] : [s]
        default: layersPattern = try Self.strings(json["layers_pattern"], name: "layers_pattern", path: path)
        }
    }

    /// PEFT's scaling for a module: alpha / r, or alpha / √r with rsLoRA, each looked up through the patterns.
    func scale(for module: String) -> (rank: Int, scale: Double) {
        let r = Self.patternValue(rankPattern, module) ?? rank
        let a = Self.patternValue(alphaPattern, module) ?? alpha
        return (r, useRslora ? a / Double(r).squareRoot() : a / Double(r))
    }

    /// `get_pattern_key`: the first key (in file order) that matches a dotted suffix of the module name as a regex.
    static func patternValue<T>(_ pattern: [(key: String, value: T)], _ module: String) -> T? {
        pattern.first { PythonRegex.fullMatch(suffixPattern($0.key), module) }?.value
    }

    /// The regex `get_pattern_key` builds from a rank_pattern or alpha_pattern key: `re.match(rf"(.*\.)?({key})$", …)`.
    private static func suffixPattern(_ key: String) -> String { "(.*\\.)?(\(key))" }

    /// check_target_module_exists for nn.Module targets, including layers_to_transform and exclusions.
    func targets(module: String) -> Bool {
        if Self.matches(excludeModules, module) { return false }
        if modulesToSave.contains(where: { PythonRegex.prefixMatch("(^|.*\\.)\($0)($|\\..*)", module) }) { return false }
        switch targetModules {
        case .none: return false
        case .regex(let pattern): return PythonRegex.fullMatch(pattern, module)
        case .names(let names):
            if names.contains(where: { module.sameBytes(as: $0) }) { return true }
            guard names.contains(where: { module.hasByteSuffix("." + $0) }) else { return false }
            return inTransformedLayer(module)
        }
    }

    private func inTransformedLayer(_ module: String) -> Bool {
        guard let layers = layersToTransform else { return true }
        let patterns = layersPattern.isEmpty ? [".*?\\.[^.]*\\.(\\d+)\\."] : layersPattern.map { "(?:^|.*?\\.)\($0)\\.(\\d+)\\." }
        for pattern in patterns {
            if let index = PythonRegex.firstGroup(pattern, module).flatMap({ Int($0) }) { return layers.contains(index) }
        }
        return false
    }

    /// _inject_parameters: a parameter is targeted when its full name is listed or ends with `.<listed>`.
    func targets(parameter fullName: String) -> Bool {
        targetParameters.contains { fullName.sameBytes(as: $0) || fullName.hasByteSuffix("." + $0) }
    }

    private static func matches(_ targets: Targets, _ module: String) -> Bool {
        switch targets {
        case .none: return false
        case .regex(let pattern): return PythonRegex.fullMatch(pattern, module)
        case .names(let names): return names.contains { module.sameBytes(as: $0) || module.hasByteSuffix("." + $0) }
        }
    }

    private static func targets(_ value: JSONValue?, name: String, path: String) throws(MoESlimError) -> Targets {
        switch value {
        case nil, .null?: return .none
        case .string(let s)?:
            // PEFT's re.fullmatch raises on a pattern that does not compile; ignoring it would merge nothing.
            guard PythonRegex.compiles(s) else {
                throw MoESlimError(.invalidAdapter, "\(name) '\(s)' is not a valid regular expression", path: path)
            }
            return .regex(s)
        default: return .names(try strings(value, name: name, path: path))
        }
    }

    private static func strings(_ value: JSONValue?, name: String, path: String) throws(MoESlimError) -> [String] {
        guard let value, value != .null else { return [] }
        guard let items = value.arrayValue else { throw MoESlimError(.invalidAdapter, "\(name) must be a list of strings", path: path) }
        let strings = items.compactMap(\.stringValue)
        guard strings.count == items.count else { throw MoESlimError(.invalidAdapter, "\(name) must be a list of strings", path: path) }
        return strings
    }

    private static func pattern<T>(
        _ value: JSONValue?, name: String, path: String, expected: String, _ read: (JSONValue) -> T?
    ) throws(MoESlimError) -> [(key: String, value: T)] {
        guard let value, value != .null else { return [] }
        guard let members = value.objectMembers else { throw MoESlimError(.invalidAdapter, "\(name) must be an object", path: path) }
        var out: [(key: String, value: T)] = []
        for (key, item) in members {
            // PEFT's re.match raises on a key that does not compile; ignoring it would use the wrong rank or alpha.
            guard PythonRegex.compiles(suffixPattern(key)) else {
                throw MoESlimError(.invalidAdapter, "\(name) key '\(key)' is not a valid regular expression", path: path)
            }
            guard let v = read(item) else { throw MoESlimError(.invalidAdapter, "\(name)['\(key)'] is not \(expected)", path: path) }
            out.append((key, v))
        }
        return out
    }
}

/// Python's `re` semantics for the patterns PEFT configs hold, through ICU (NSRegularExpression), which agrees
/// with `re` on the constructs such patterns use.
enum PythonRegex {
    static func fullMatch(_ pattern: String, _ text: String) -> Bool { match("^(?:\(pattern))$", text) != nil }

    static func prefixMatch(_ pattern: String, _ text: String) -> Bool { match("^(?:\(pattern))", text) != nil }

    static func firstGroup(_ pattern: String, _ text: String) -> String? {
        guard let m = match("^(?:\(pattern))", text), m.numberOfRanges > 1, let range = Range(m.range(at: 1), in: text) else { return nil }
        return String(text[range])
    }

    /// Whether ICU accepts the pattern; one it refuses would otherwise match nothing without a word.
    static func compiles(_ pattern: String) -> Bool { (try? NSRegularExpression(pattern: pattern)) != nil }

    private static func match(_ pattern: String, _ text: String) -> NSTextCheckingResult? {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return nil }
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text))
    }
}
