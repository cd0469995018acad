import MoESlimSupport

/// Qwen3.5-MoE as released: the vision-language wrapper around `Qwen35MoeTextFamily`'s language model.
/// config.json nests the language model's keys in text_config and the tensors live under model.language_model.
/// (the vision tower under model.visual. is copied untouched).
struct Qwen35MoeFamily: EngineFamily {
    static let modelTypes = ["qwen3_5_moe"]

    static let names = TensorNames(
        Qwen35MoeTextFamily.roles.merging([
            .tokenEmbedding: "model.language_model.embed_tokens.weight", .finalNorm: "model.language_model.norm",
        ]) { _, wrapper in wrapper },
        layersPrefix: "model.language_model.layers.")
    static let configBounds = Qwen35MoeTextFamily.configBounds
    static let configSection: String? = "text_config"

    typealias Config = HybridQwenConfig

    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout { try Qwen35MoeTextFamily.layout(c, names: names) }

    /// As the text model's: the training-time names are the ones on disk apart from the fused experts.
    static let adapterNames = Qwen35MoeTextFamily.adapterNames

    static func engineSpec(_ config: Config) throws(MoESlimError) -> EngineSpec {
        try Qwen35MoeTextFamily.engineSpec(config, names: names)
    }
}
