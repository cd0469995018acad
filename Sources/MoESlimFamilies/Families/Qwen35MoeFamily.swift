import MoESlimSupport

/// Qwen3.5-MoE: Qwen3-Next's hybrid decoder with the linear attention's input projections stored as four plain
/// Linears (in_proj_qkv, in_proj_z, in_proj_b, in_proj_a), every layer MoE and the top-k always renormalised.
/// Releases are the vision-language wrapper: config.json nests the language model's keys in text_config and the
/// tensors live under model.language_model. (the vision tower under model.visual. is copied untouched).
struct Qwen35MoeFamily: EngineFamily {
    static let modelTypes = ["qwen3_5_moe"]

    static let names = TensorNames(
        [
            .tokenEmbedding: "model.language_model.embed_tokens.weight", .finalNorm: "model.language_model.norm",
            .sharedExperts: "shared_expert.", .sharedExpertGate: "shared_expert_gate.",
            .linearAttention: "linear_attn.", .linearQKV: "in_proj_qkv", .linearZ: "in_proj_z", .linearB: "in_proj_b",
            .linearA: "in_proj_a", .linearConv: "conv1d.weight", .linearTimeStepBias: "dt_bias", .linearDecayLog: "A_log",
            .linearNorm: "norm", .linearOutput: "out_proj", .multiTokenPrediction: "mtp.",
        ],
        layersPrefix: "model.language_model.layers.")
    static let configBounds = HybridQwenConfig.bounds
    static let configSection: String? = "text_config"

    typealias Config = HybridQwenConfig

    /// Qwen3_5MoeDecoderLayer builds a sparse block on every layer and its router always renormalises; the
    /// text config deletes mlp_only_layers, decoder_sparse_step and norm_topk_prob.
    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        try c.layout(names: names, moeLayers: c.experts.count > 0 ? c.dims.allLayers : [], routing: .softmax(normalize: true))
    }

    /// transformers 5 fuses the experts on loading as Qwen2-MoE's (qwen3_5_moe_text's mapping adds qwen2_moe's);
    /// releases that store them fused already keep those names.
    static let adapterNames = Qwen2MoeFamily.adapterNames

    /// For text, Qwen3.5's multimodal rotary gives every section the same position, which is plain RoPE. Experts
    /// as transformers 5 saves them (per expert) or as the releases ship them (fused gate_up_proj [E, 2I, H],
    /// gate rows first, and down_proj [E, H, I]).
    static func engineSpec(_ config: Config) throws(MoESlimError) -> EngineSpec {
        try config.engineSpec(names: names, projections: .separate, experts: .perExpertOrFused(names))
    }
}
