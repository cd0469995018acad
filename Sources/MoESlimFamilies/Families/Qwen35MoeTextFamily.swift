import MoESlimSupport

/// Qwen3.5-MoE's language model alone (`qwen3_5_moe_text`), as Qwen3_5MoeForCausalLM saves it: config.json is the
/// text config itself and the tensors live under model. (model.layers., model.embed_tokens, model.norm) beside
/// lm_head, with no vision tower. Otherwise as `Qwen35MoeFamily`, the wrapper the releases use: Qwen3-Next's
/// hybrid decoder with the linear attention's input projections stored as four plain Linears (in_proj_qkv,
/// in_proj_z, in_proj_b, in_proj_a), every layer MoE and the top-k always renormalised.
struct Qwen35MoeTextFamily: EngineFamily {
    static let modelTypes = ["qwen3_5_moe_text"]

    /// The names both forms share; the wrapper adds its own prefix to the whole-model roles and the layers.
    static let roles: [TensorRole: String] = [
        .sharedExperts: "shared_expert.", .sharedExpertGate: "shared_expert_gate.",
        .linearAttention: "linear_attn.", .linearQKV: "in_proj_qkv", .linearZ: "in_proj_z", .linearB: "in_proj_b",
        .linearA: "in_proj_a", .linearConv: "conv1d.weight", .linearTimeStepBias: "dt_bias", .linearDecayLog: "A_log",
        .linearNorm: "norm", .linearOutput: "out_proj", .multiTokenPrediction: "mtp.",
    ]

    static let names = TensorNames(roles)
    static let configBounds = HybridQwenConfig.bounds

    typealias Config = HybridQwenConfig

    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout { try layout(c, names: names) }

    /// Qwen3_5MoeDecoderLayer builds a sparse block on every layer and its router always renormalises; the
    /// text config deletes mlp_only_layers, decoder_sparse_step and norm_topk_prob.
    static func layout(_ c: Config, names: TensorNames) throws(MoESlimError) -> FamilyLayout {
        try c.layout(names: names, moeLayers: c.experts.count > 0 ? c.dims.allLayers : [], routing: .softmax(normalize: true))
    }

    /// transformers 5 fuses the experts on loading as Qwen2-MoE's (conversion_mapping.py's qwen3_5_moe_text adds
    /// qwen2_moe's to qwen3_5_text's, whose only other entry strips a language_model prefix this form does not
    /// have); checkpoints that store them fused already keep those names.
    static let adapterNames = Qwen2MoeFamily.adapterNames

    static func engineSpec(_ config: Config) throws(MoESlimError) -> EngineSpec { try engineSpec(config, names: names) }

    /// For text, Qwen3.5's multimodal rotary gives every section the same position, which is plain RoPE. Experts
    /// as transformers 5 saves them (per expert) or as the releases ship them (fused gate_up_proj [E, 2I, H],
    /// gate rows first, and down_proj [E, H, I]).
    static func engineSpec(_ config: Config, names: TensorNames) throws(MoESlimError) -> EngineSpec {
        try config.engineSpec(names: names, projections: .separate, experts: .perExpertOrFused(names))
    }
}
