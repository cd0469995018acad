import MoESlimSupport

/// One tensor name of a PEFT adapter file, taken apart. PEFT saves `base_model.model.<module>.<role>[.weight]`,
/// dropping the adapter name for the default adapter and keeping it (`lora_A.<name>.weight`) otherwise.
struct AdapterKey: Equatable, Sendable {
    enum Role: String, Sendable {
        case loraA = "lora_A", loraB = "lora_B"
        case embeddingA = "lora_embedding_A", embeddingB = "lora_embedding_B"
        case magnitude = "lora_magnitude_vector"
        /// A whole tensor that replaces the model's: modules_to_save copies and `base_layer` weights.
        case replacement

        /// The factor role a name part spells, byte for byte (`init(rawValue:)` compares Strings).
        static func spelled(by part: ByteName) -> Role? {
            [Role.loraA, .loraB, .embeddingA, .embeddingB, .magnitude].first { ByteName($0.rawValue) == part }
        }
    }

    /// The module as named in the model at training time (no `base_model.model.`, no `.base_layer` wrappers).
    var module: String
    /// How many `base_layer.` wrappers PEFT nested; only target_parameters nest several adapters on one module.
    var depth: Int
    var role: Role
    /// `weight` or `bias` (lora_B may carry a bias with lora_bias); replacements name the parameter itself.
    var parameter: String

    static let prefix = "base_model.model."

    /// Parts are compared as bytes (ByteName), as PEFT compares them.
    init?(_ name: String, adapterName: String?) {
        guard name.hasBytePrefix(Self.prefix) else { return nil }
        var parts = name.dropBytes(Self.prefix.utf8.count).byteSplit(".").map { ByteName($0) }
        guard let roleIndex = parts.firstIndex(where: { Role.spelled(by: $0) != nil }) else {
            guard parts.count >= 2 else { return nil }
            parameter = parts.removeLast().string
            parts.removeAll { $0 == "modules_to_save" }
            depth = 0
            while parts.last == "base_layer" {
                parts.removeLast()
                depth += 1
            }
            guard !parts.contains("base_layer"), !parts.isEmpty else { return nil }
            role = .replacement
            module = parts.map(\.string).joined(separator: ".")
            return
        }
        role = Role.spelled(by: parts[roleIndex])!
        var rest = Array(parts[(roleIndex + 1)...])
        if let adapterName, rest.first == ByteName(adapterName), rest.count > (role == .magnitude || role == .embeddingA || role == .embeddingB ? 0 : 1) {
            rest.removeFirst()
        }
        switch role {
        case .magnitude, .embeddingA, .embeddingB:
            guard rest.isEmpty || rest == ["weight"] else { return nil }
            parameter = "weight"
        default:
            guard rest.count == 1, rest[0] == "weight" || rest[0] == "bias" else { return nil }
            parameter = rest[0].string
        }
        var path = Array(parts[..<roleIndex])
        depth = 0
        while path.last == "base_layer" {
            path.removeLast()
            depth += 1
        }
        guard !path.isEmpty, !path.contains("base_layer") else { return nil }
        module = path.map(\.string).joined(separator: ".")
    }
}
