/// PhiMoE: Mixtral's tensor layout with LayerNorm (weight and bias) and the sparsemixer router.
struct PhimoeFamily: ModelFamily {
    static let modelTypes = ["phimoe"]

    typealias Config = PlainMoEConfig

    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        FamilyLayout(
            dims: c.dims, experts: c.experts, routing: .softmax(normalize: false), moeLayers: c.dims.allLayers,
            moePrefix: { "model.layers.\($0).block_sparse_moe." }, router: [("gate.weight", 0, true)])
    }

    /// As Mixtral, and the router runs as `mlp.router`.
    static let adapterNames = AdapterNameMap(
        renames: [(".mlp.router.", ".block_sparse_moe.gate."), (".mlp.", ".block_sparse_moe.")],
        fusedExperts: MixtralFamily.adapterNames.fusedExperts)
}

extension PhimoeFamily: EngineFamily {
    struct EngineConfig: Decodable {
        var dims: EngineDims
        var routerJitterNoise: Double?
        var topK: Int?

        enum CodingKeys: String, CodingKey {
            case routerJitterNoise = "router_jitter_noise"
            case topK = "num_experts_per_tok"
        }

        init(from decoder: Decoder) throws {
            dims = try EngineDims(from: decoder)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            routerJitterNoise = try c.decodeIfPresent(Double.self, forKey: .routerJitterNoise)
            topK = try c.decodeIfPresent(Int.self, forKey: .topK)
        }
    }

    /// sparsemixer always picks exactly two experts, whatever num_experts_per_tok says; other values are refused.
    /// Under longrope, transformers' PhiMoE rotary keeps the short factors for every length and only switches
    /// the cos/sin scale between short_mscale and long_mscale.
    static func engineSpec(_ c: EngineConfig) throws(MoESlimError) -> EngineSpec {
        try c.dims.requireSiLU()
        guard (c.topK ?? 2) == 2 else {
            throw MoESlimError(.unsupportedModel, "phimoe's sparsemixer routes to 2 experts; num_experts_per_tok is \(c.topK ?? 2)")
        }
        var (attention, rope) = try c.dims.groupedAttention(windows: c.dims.windowOnEveryLayer)
        if var long = rope.long {
            guard let shortMscale = c.dims.rope.shortMscale, let longMscale = c.dims.rope.longMscale else {
                throw MoESlimError(.invalidConfig, "phimoe longrope needs short_mscale and long_mscale")
            }
            rope.attentionFactor = Float(shortMscale)
            long.inverseFrequencies = rope.inverseFrequencies
            long.attentionFactor = Float(longMscale)
            rope.long = long
        }
        var spec = EngineSpec(
            normEps: c.dims.eps, rope: rope, attention: attention, moePath: "block_sparse_moe.",
            router: RouterNames(weight: "gate.weight"), experts: .perExpert(gate: "w1.weight", up: "w3.weight", down: "w2.weight"))
        spec.norm = .layer
        spec.intermediate = c.dims.expertsOfIntermediateSize
        spec.selection = .sparseMixer(jitterEps: Float(c.routerJitterNoise ?? 0.01))
        return spec
    }
}
