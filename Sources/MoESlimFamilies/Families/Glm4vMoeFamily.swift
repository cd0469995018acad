import MoESlimSupport

/// GLM-4.5V / GLM-4.6V: the vision-language wrapper around a GLM-4.5 MoE language model (DeepSeek-V3's router:
/// sigmoid, correction bias, groups; the first first_k_dense_replace layers dense). config.json nests the
/// language model's keys in text_config; its tensors live under model.language_model. (the vision tower under
/// model.visual. is copied untouched). Experts are stored per expert, as GLM-4.5's.
struct Glm4vMoeFamily: EngineFamily {
    static let modelTypes = ["glm4v_moe"]

    static let names = TensorNames(
        [
            .tokenEmbedding: "model.language_model.embed_tokens.weight", .finalNorm: "model.language_model.norm",
            .sharedExperts: "shared_experts.", .routerCorrectionBias: "gate.e_score_correction_bias",
        ],
        layersPrefix: "model.language_model.layers.")
    static let configBounds = Glm4MoeFamily.configBounds
    static let configSection: String? = "text_config"

    typealias Config = Glm4MoeFamily.Config

    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout { try Glm4MoeFamily.layout(c, names: names) }

    /// Experts fused on loading as Qwen2-MoE's (conversion_mapping.py maps glm4v_moe to qwen2_moe).
    static let adapterNames = Qwen2MoeFamily.adapterNames

    /// GLM-4.5's decoder without q/k norms (Glm4vMoeTextAttention has none; its q/k/v carry biases). For text,
    /// the multimodal rotary gives every section the same position, which is plain partial RoPE.
    static func engineSpec(_ c: Config) throws(MoESlimError) -> EngineSpec {
        try Glm4MoeFamily.engineSpec(c, names: names, qkNorm: false)
    }
}
