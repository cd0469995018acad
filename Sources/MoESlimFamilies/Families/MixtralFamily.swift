import MoESlimSupport

/// Mixtral: per-expert w1/w3/w2 under block_sparse_moe, softmax router renormalised over the top-k.
struct MixtralFamily: EngineFamily {
    static let modelTypes = ["mixtral"]

    /// Mixtral's expert tensors are w1 (gate), w3 (up) and w2 (down) under block_sparse_moe.
    static let names = TensorNames([.moeBlock: "block_sparse_moe.", .gate: "w1.weight", .up: "w3.weight", .down: "w2.weight"])

    typealias Config = PlainMoEConfig

    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        FamilyLayout(
            dims: c.dims, experts: c.experts, routing: .softmax(normalize: true), moeLayers: c.dims.allLayers,
            names: names)
    }

    /// transformers 5 runs `block_sparse_moe` as `mlp`, the experts' w1|w3 fused as gate_up_proj and w2 as down_proj.
    static let adapterNames = AdapterNameMap(
        renames: [(".mlp.", ".block_sparse_moe.")],
        fusedExperts: [
            .init(training: "experts.gate_up_proj", parts: [names[.gate], names[.up]]),
            .init(training: "experts.down_proj", parts: [names[.down]]),
        ])
}

extension MixtralFamily {
    static func engineSpec(_ config: Config) throws(MoESlimError) -> EngineSpec {
        let c = config.engine
        try c.requireSiLU()
        let (attention, rope) = try c.groupedAttention(windows: c.windowOnEveryLayer)
        var spec = EngineSpec(
            normEps: c.eps, rope: rope, attention: attention, names: names,
            experts: .perExpert(names))
        spec.intermediate = c.expertsOfIntermediateSize
        return spec
    }
}
