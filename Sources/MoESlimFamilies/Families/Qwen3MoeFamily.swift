import MoESlimSupport

/// Qwen3-MoE: Qwen2-MoE's layout without the shared expert, with per-head q/k norms.
struct Qwen3MoeFamily: EngineFamily {
    static let modelTypes = ["qwen3_moe"]

    static let names = TensorNames()
    static let configBounds = QwenSparseLayers.bounds

    typealias Config = QwenMoEConfig

    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        FamilyLayout(
            dims: c.dims, experts: c.experts, routing: .softmax(normalize: c.sparse.normTopkProb ?? false),
            moeLayers: c.sparse.moeLayers(c.dims, experts: c.experts.count),
            names: names)
    }

    /// Experts fused on loading as Qwen2-MoE's.
    static let adapterNames = Qwen2MoeFamily.adapterNames
}

extension Qwen3MoeFamily {
    static func engineSpec(_ config: Config) throws(MoESlimError) -> EngineSpec {
        let c = config.engine
        try c.requireSiLU()
        var (attention, rope) = try c.groupedAttention(windows: c.useSlidingWindow == true ? c.windowOnEveryLayer : [:])
        attention.qkNorm = .perHead
        var spec = EngineSpec(
            normEps: c.eps, rope: rope, attention: attention, names: names,
            experts: .perExpert(names))
        spec.intermediate = IntermediateSizes(experts: c.moeIntermediateSize, dense: c.intermediateSize)
        return spec
    }
}
