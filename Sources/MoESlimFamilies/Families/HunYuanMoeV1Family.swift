import Foundation
import MoESlimSupport

/// Hunyuan-A13B (`hunyuan_v1_moe`): per-expert SwiGLU under mlp, a softmax router at `gate.wg` renormalised over
/// the top-k (`moe_topk`), and an always-on shared MLP (`shared_mlp`, no gate), all intermediate_size wide. Its
/// per-head q/k norms (`query_layernorm`, `key_layernorm`) come after the rotation, and its released configs ask
/// for "dynamic" rope with an `alpha`, which transformers computes as a fixed NTK stretch of the base. Per-layer
/// expert counts or top-k (lists) are refused.
struct HunYuanMoeV1Family: EngineFamily {
    static let modelTypes = ["hunyuan_v1_moe"]

    static let names = TensorNames([
        .router: "gate.wg.weight", .sharedExperts: "shared_mlp.", .queryNorm: "query_layernorm", .keyNorm: "key_layernorm",
    ])

    typealias Config = PlainMoEConfig

    /// Every layer is MoE (HunYuanMoEV1DecoderLayer always builds HunYuanMoEV1Moe).
    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        FamilyLayout(
            dims: c.dims, experts: c.experts, routing: .softmax(normalize: true), moeLayers: c.dims.allLayers,
            names: names)
    }

    /// Experts fused on loading as Qwen2-MoE's; the router and shared MLP keep their names.
    static let adapterNames = Qwen2MoeFamily.adapterNames
}

extension HunYuanMoeV1Family {
    /// Full causal attention on every layer (transformers builds no sliding mask), rms_norm_eps 1e-5 unless stated,
    /// rotation over the whole head; head_dim must be stated (transformers' attention has no default for it).
    static func engineSpec(_ config: Config) throws(MoESlimError) -> EngineSpec {
        var c = config.engine
        try c.requireSiLU()
        guard c.headDim != nil else {
            throw MoESlimError(.invalidConfig, "the forward pass needs head_dim (HunYuanMoEV1Attention reads it from the config, with no default)")
        }
        c.rmsNormEps = c.rmsNormEps ?? 1e-5
        try resolveNTKAlpha(&c)
        var (attention, rope) = try c.groupedAttention()
        attention.qkNorm = .perHeadAfterRope
        var spec = EngineSpec(normEps: c.eps, rope: rope, attention: attention, names: names, experts: .perExpert(names))
        spec.intermediate = IntermediateSizes(experts: c.intermediateSize, shared: c.intermediateSize)
        return spec
    }

    /// HunYuanMoEV1RotaryEmbedding: "dynamic" with a non-zero alpha is its ntk_alpha, the default rotation at base
    /// rope_theta · alpha^(head_dim / (head_dim - 2)), whatever the sequence length. Its default rotation ignores
    /// partial_rotary_factor. Any other "dynamic" (NTK by sequence length) is refused by the rope spec.
    private static func resolveNTKAlpha(_ c: inout EngineDims) throws(MoESlimError) {
        if c.rope.type.sameBytes(as: "default") { c.rope.partialRotaryFactor = nil }
        guard c.rope.type.sameBytes(as: "dynamic"), let alpha = c.rope.alpha, alpha != 0, let d = c.headDim else { return }
        guard d > 2 else {
            throw MoESlimError(.invalidConfig, "rope alpha needs head_dim greater than 2 (transformers' ntk_alpha rope divides by head_dim - 2)")
        }
        let base = c.rope.theta * pow(alpha, Double(d) / Double(d - 2))
        guard base.isFinite, base > 0 else {
            throw MoESlimError(.invalidConfig, "rope alpha \(alpha) with rope_theta \(c.rope.theta) gives the rotary base \(base); it must be finite and positive")
        }
        c.rope.theta = base
        c.rope.type = "default"
        c.rope.partialRotaryFactor = nil
    }
}
