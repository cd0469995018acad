import MoESlimSupport

/// PhiMoE: Mixtral's tensor layout with LayerNorm (weight and bias) and the sparsemixer router.
struct PhimoeFamily: EngineFamily {
    static let modelTypes = ["phimoe"]

    /// Mixtral's names.
    static let names = MixtralFamily.names

    struct Config: Decodable, EngineConfigured {
        var dims: TransformerDims
        var experts: ExpertKeys
        var engine: EngineDims
        var routerJitterNoise: Double?

        enum CodingKeys: String, CodingKey {
            case routerJitterNoise = "router_jitter_noise"
        }

        init(from decoder: Decoder) throws {
            dims = try TransformerDims(from: decoder)
            experts = try ExpertKeys(from: decoder)
            engine = try EngineDims(from: decoder)
            routerJitterNoise = try decoder.container(keyedBy: CodingKeys.self)
                .decodeIfPresent(Double.self, forKey: .routerJitterNoise)
        }
    }

    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        FamilyLayout(
            dims: c.dims, experts: c.experts, routing: .softmax(normalize: false), moeLayers: c.dims.allLayers,
            names: names)
    }

    /// As Mixtral, and the router runs as `mlp.router`.
    static let adapterNames = AdapterNameMap(
        renames: [(".mlp.router.", ".block_sparse_moe.gate."), (".mlp.", ".block_sparse_moe.")],
        fusedExperts: MixtralFamily.adapterNames.fusedExperts)
}

extension PhimoeFamily {
    /// sparsemixer always picks exactly two experts, whatever num_experts_per_tok says; other values are refused.
    /// Under longrope, transformers' PhiMoE rotary keeps the short factors for every length and only switches
    /// the cos/sin scale between short_mscale and long_mscale.
    static func engineSpec(_ c: Config) throws(MoESlimError) -> EngineSpec {
        try c.engine.requireSiLU()
        guard c.experts.topK == 2 else {
            throw MoESlimError(.unsupportedModel, "phimoe's sparsemixer routes to 2 experts; \(c.experts.topKKey) is \(c.experts.topK)")
        }
        var (attention, rope) = try c.engine.groupedAttention(windows: c.engine.windowOnEveryLayer)
        if var long = rope.long {
            guard let shortMscale = c.engine.rope.shortMscale, let longMscale = c.engine.rope.longMscale else {
                throw MoESlimError(.invalidConfig, "phimoe longrope needs short_mscale and long_mscale")
            }
            rope.attentionFactor = Float(shortMscale)
            long.inverseFrequencies = rope.inverseFrequencies
            long.attentionFactor = Float(longMscale)
            rope.long = long
        }
        var spec = EngineSpec(
            normEps: c.engine.eps, rope: rope, attention: attention, names: names,
            experts: .perExpert(names))
        spec.norm = .layer
        spec.intermediate = c.engine.expertsOfIntermediateSize
        spec.selection = .sparseMixer(jitterEps: Float(c.routerJitterNoise ?? 0.01))
        return spec
    }
}
