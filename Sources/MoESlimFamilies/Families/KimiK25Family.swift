import MoESlimSupport

/// Kimi-K2.5 (`kimi_k25`): the vision-language wrapper around Kimi-K2, whose language model is DeepSeek-V3's
/// (multi-head latent attention, sigmoid router with correction bias and groups, shared experts, the first
/// first_k_dense_replace layers dense). config.json nests the language model's keys in text_config, whose model_type
/// the releases spell "kimi_k2" and transformers "deepseek_v3". The tensors are stored as the releases' remote code
/// names them and transformers 5 loads them (its conversion mapping turns language_model.model. into
/// model.language_model.): the decoder under language_model.model.layers., the head at language_model.lm_head;
/// vision_tower. and mm_projector. are copied untouched.
struct KimiK25Family: EngineFamily {
    static let modelTypes = ["kimi_k25"]

    static let names = TensorNames(
        [
            .tokenEmbedding: "language_model.model.embed_tokens.weight", .finalNorm: "language_model.model.norm",
            .lmHead: "language_model.lm_head.weight",
            .sharedExperts: "shared_experts.", .routerCorrectionBias: "gate.e_score_correction_bias",
        ],
        layersPrefix: "language_model.model.layers.")
    static let configBounds = DeepseekFamily.configBounds
    static let configSection: String? = "text_config"

    typealias Config = DeepseekFamily.Config

    /// The text model types Kimi_K25Config builds a DeepSeek-V3 language model from ("kimi_k2" is rewritten to
    /// "deepseek_v3" on loading); another type would be another decoder, which this file does not describe.
    static let textModelTypes = ["deepseek_v3", "kimi_k2"]

    /// Always DeepSeek-V3's rule, with DeepseekV3Config's defaults: 3 dense layers, 8 groups, top 4 groups,
    /// routed_scaling_factor 2.5, norm_topk_prob true.
    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        guard textModelTypes.contains(where: { $0.sameBytes(as: c.modelType) }) else {
            throw MoESlimError(
                .invalidConfig,
                "text_config.model_type is \(JSONValue.quote(c.modelType)); kimi_k25 wraps a DeepSeek-V3 language model ('deepseek_v3' or 'kimi_k2')")
        }
        let first = c.router.firstKDenseReplace ?? 3
        return try DeepseekFamily.sigmoidGroupedLayout(
            c, names: names, moeLayers: c.dims.allLayers.filter { $0 >= first },
            defaults: .init(groups: 8, topkGroups: 4, scaling: 2.5))
    }

    /// At training time transformers 5 holds the language model as model.language_model. and the head as lm_head.
    /// (Kimi_K25ForConditionalGeneration), and fuses the experts as Qwen2-MoE's (its kimi_k25 mapping adds
    /// qwen2_moe's); on disk they are language_model.model. and language_model.lm_head.
    static let adapterNames = AdapterNameMap(
        renames: [("model.language_model.", "language_model.model."), ("lm_head.", "language_model.lm_head.")],
        fusedExperts: DeepseekFamily.adapterNames.fusedExperts)

    /// DeepSeek-V3's forward pass under the wrapper's names; text only (the vision tower is not run).
    static func engineSpec(_ c: Config) throws(MoESlimError) -> EngineSpec {
        try DeepseekFamily.engineSpec(c, names: names)
    }
}
