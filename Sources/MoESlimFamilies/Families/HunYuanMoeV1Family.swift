import MoESlimSupport

/// Hunyuan-A13B (`hunyuan_v1_moe`): per-expert SwiGLU under mlp, a softmax router at `gate.wg` renormalised over
/// the top-k (`moe_topk`), and an always-on shared MLP (`shared_mlp`, no gate). Described, not run: its q/k
/// norms come after the rotation and its released configs use dynamic NTK-alpha rope, neither of which the
/// forward pass implements; per-layer expert counts (num_experts as a list) are refused.
struct HunYuanMoeV1Family: ModelFamily {
    static let modelTypes = ["hunyuan_v1_moe"]

    static let names = TensorNames([.router: "gate.wg.weight", .sharedExperts: "shared_mlp."])

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
