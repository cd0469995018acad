import MoESlimSupport

/// Qwen3-VL-MoE: the vision-language wrapper around a Qwen3-MoE language model. config.json nests the language
/// model's keys in text_config; its tensors live under model.language_model. (the vision tower under model.visual.
/// is copied untouched). The experts are stored fused: the releases input-major, gate_up_proj [E, H, 2I] (gate
/// columns first) and down_proj [E, I, H]; transformers 5 transposes those on loading (conversion_mapping.py's
/// "qwen3_vl_moe") and saves output-major, [E, 2I, H] and [E, H, I]. Both are read; the expert axis is 0 in both.
struct Qwen3VlMoeFamily: EngineFamily {
    static let modelTypes = ["qwen3_vl_moe"]

    static let names = TensorNames(
        [.tokenEmbedding: "model.language_model.embed_tokens.weight", .finalNorm: "model.language_model.norm"],
        layersPrefix: "model.language_model.layers.")
    static let configBounds = QwenSparseLayers.bounds
    static let configSection: String? = "text_config"

    typealias Config = QwenMoEConfig

    /// Qwen3VLMoeTextDecoderLayer picks sparse layers as Qwen3-MoE does (decoder_sparse_step, mlp_only_layers);
    /// its router always renormalises the top-k (Qwen3VLMoeTextTopKRouter ignores norm_topk_prob).
    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        FamilyLayout(
            dims: c.dims, experts: c.experts, routing: .softmax(normalize: true),
            moeLayers: c.sparse.moeLayers(c.dims, experts: c.experts.count),
            names: names)
    }

    /// Names are the same at training time. An adapter on the fused experts has the training-time (output-major)
    /// shape: it merges into output-major tensors, and the merge's shape check refuses it against a release's
    /// input-major ones (unless H = 2·I, where gate_up_proj's delta would be added transposed).
    static let adapterNames = AdapterNameMap.identity
}

extension Qwen3VlMoeFamily {
    /// Qwen3-MoE's decoder (per-head q/k norms, no shared expert). For text, the interleaved multimodal rotary
    /// gives every section the same position, which is plain RoPE.
    static func engineSpec(_ config: Config) throws(MoESlimError) -> EngineSpec {
        let c = config.engine
        try c.requireSiLU()
        var (attention, rope) = try c.groupedAttention()
        attention.qkNorm = .perHead
        var spec = EngineSpec(
            normEps: c.eps, rope: rope, attention: attention, names: names,
            experts: .fusedGateUpEitherMajor(gateUp: names[.fusedGateUp], down: names[.fusedDown]))
        spec.intermediate = IntermediateSizes(experts: c.moeIntermediateSize, dense: c.intermediateSize)
        return spec
    }
}
