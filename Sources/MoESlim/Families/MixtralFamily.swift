/// Mixtral: per-expert w1/w3/w2 under block_sparse_moe, softmax router renormalised over the top-k.
struct MixtralFamily: EngineFamily {
    static let modelTypes = ["mixtral"]

    typealias Config = PlainMoEConfig

    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        FamilyLayout(
            dims: c.dims, experts: c.experts, routing: .softmax(normalize: true), moeLayers: c.dims.allLayers,
            moePrefix: { "model.layers.\($0).block_sparse_moe." }, router: [("gate.weight", 0, true)])
    }

    /// transformers 5 runs `block_sparse_moe` as `mlp`, the experts' w1|w3 fused as gate_up_proj and w2 as down_proj.
    static let adapterNames = AdapterNameMap(
        renames: [(".mlp.", ".block_sparse_moe.")],
        fusedExperts: [
            .init(training: "experts.gate_up_proj", parts: ["w1.weight", "w3.weight"]),
            .init(training: "experts.down_proj", parts: ["w2.weight"]),
        ])
}

extension MixtralFamily {
    static func engineSpec(_ config: Config) throws(MoESlimError) -> EngineSpec {
        let c = config.engine
        try c.requireSiLU()
        let (attention, rope) = try c.groupedAttention(windows: c.windowOnEveryLayer)
        var spec = EngineSpec(
            normEps: c.eps, rope: rope, attention: attention, moePath: "block_sparse_moe.",
            router: RouterNames(weight: "gate.weight"), experts: .perExpert(gate: "w1.weight", up: "w3.weight", down: "w2.weight"))
        spec.intermediate = c.expertsOfIntermediateSize
        return spec
    }
}
