import MoESlimSupport

/// dots.llm1 (`dots1`): DeepSeek-V3's router (sigmoid, correction bias, groups) and names on grouped-query
/// attention with per-head q/k norms (Qwen3's), windowed attention on the layers `layer_types` marks.
struct Dots1Family: EngineFamily {
    static let modelTypes = ["dots1"]

    static let names = DeepseekFamily.names
    static let configBounds = ConfigBounds(
        expertKeys: ["n_group", "topk_group", "n_shared_experts"],
        dimensionKeys: ["first_k_dense_replace", "max_window_layers"])

    struct Config: Decodable, EngineConfigured {
        var dims: TransformerDims
        var experts: ExpertKeys
        var engine: EngineDims
        var router: GroupedRouterKeys
        var nSharedExperts: Int?

        enum CodingKeys: String, CodingKey {
            case nSharedExperts = "n_shared_experts"
        }

        init(from decoder: Decoder) throws {
            dims = try TransformerDims(from: decoder)
            experts = try ExpertKeys(from: decoder)
            engine = try EngineDims(from: decoder)
            router = try GroupedRouterKeys(from: decoder)
            nSharedExperts = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(Int.self, forKey: .nSharedExperts)
        }
    }

    /// Dots1Config's defaults: every layer from first_k_dense_replace (0) on is MoE, one group, no top-k
    /// renormalisation, routed_scaling_factor 1.
    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        let r = c.router
        let routing = RoutingRule(
            scoring: .sigmoid, normalizeTopK: r.normTopkProb ?? false, groups: r.nGroup ?? 1,
            topkGroups: r.topkGroup ?? 1, scalingFactor: r.routedScalingFactor ?? 1)
        try r.check(routing, experts: c.experts.count)
        let first = r.firstKDenseReplace ?? 0
        var layout = FamilyLayout(
            dims: c.dims, experts: c.experts, routing: routing, moeLayers: c.dims.allLayers.filter { $0 >= first },
            names: names, router: [(names[.router], 0, true), (names[.routerCorrectionBias], 0, true)])
        layout.buffers = [names[.routerCorrectionBias]]
        return layout
    }

    static let adapterNames = Qwen2MoeFamily.adapterNames
}

extension Dots1Family {
    /// Windows on the layers from max_window_layers on (Dots1Config's layer_types default) when sliding_window
    /// is set.
    static func engineSpec(_ c: Config) throws(MoESlimError) -> EngineSpec {
        let e = c.engine
        try e.requireSiLU()
        var (attention, rope) = try e.groupedAttention(windows: e.windowsFromLayerTypes { $0 >= (e.maxWindowLayers ?? 62) })
        attention.qkNorm = .perHead
        var spec = EngineSpec(normEps: e.eps, rope: rope, attention: attention, names: names, experts: .perExpert(names))
        spec.intermediate = e.mixtureOfIntermediateSizes(sharedExperts: c.nSharedExperts)
        return spec
    }
}
