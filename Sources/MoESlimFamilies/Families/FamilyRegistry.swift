/// Every family moe-slim knows, one line each, keyed by the model types its file lists (as mlx-swift-lm's
/// model_type registry). Describe, report, verify, prune, merge-lora and the forward pass all look families up
/// here; a family whose type conforms to `EngineFamily` also runs calibrate, eval and sweep.
enum FamilyRegistry {
    static let families: [any ModelFamily.Type] = [
        MixtralFamily.self,
        Qwen2MoeFamily.self,
        Qwen3MoeFamily.self,
        OlmoeFamily.self,
        DeepseekFamily.self,
        Glm4MoeFamily.self,
        GptOssFamily.self,
        GraniteMoeFamily.self,
        PhimoeFamily.self,
        Llama4TextFamily.self,
        Ernie45MoeFamily.self,
        Qwen3NextFamily.self,
        Qwen35MoeFamily.self,
        Qwen35MoeTextFamily.self,
        MiniMaxM2Family.self,
        Glm4MoeLiteFamily.self,
        DeepseekSparseFamily.self,
        Dots1Family.self,
        ExaoneMoeFamily.self,
        HunYuanMoeV1Family.self,
        AfmoeFamily.self,
        Lfm2MoeFamily.self,
        NemotronHFamily.self,
        Qwen3VlMoeFamily.self,
        Glm4vMoeFamily.self,
        Llama4Family.self,
        KimiK25Family.self,
        Mistral4Family.self,
        Mistral3Family.self,
        Gemma4TextFamily.self,
        Gemma4Family.self,
        Step3p7Family.self,
        LongcatFlashFamily.self,
    ]

    /// The family registered for a model type, compared as bytes.
    static func family(forModelType modelType: String) -> (any ModelFamily.Type)? {
        families.first { $0.modelTypes.contains { $0.sameBytes(as: modelType) } }
    }
}
