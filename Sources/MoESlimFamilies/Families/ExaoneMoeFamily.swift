import MoESlimSupport

/// EXAONE MoE (`exaone_moe`): DeepSeek-V3's router (sigmoid, groups, scaling) with its correction bias stored
/// beside the router (`mlp.e_score_correction_bias`), shared experts, per-head q/k norms, and EXAONE-4's
/// attention pattern: windowed layers rotate, the full-attention layers use no rotary embedding at all.
struct ExaoneMoeFamily: EngineFamily {
    static let modelTypes = ["exaone_moe"]

    static let names = TensorNames([.sharedExperts: "shared_experts.", .routerCorrectionBias: "e_score_correction_bias"])
    static let configBounds = ConfigBounds(
        expertKeys: ["n_group", "topk_group", "num_shared_experts"],
        dimensionKeys: ["first_k_dense_replace", "sliding_window_pattern"], positiveKeys: ["sliding_window_pattern"])

    struct Config: Decodable, EngineConfigured {
        var dims: TransformerDims
        var experts: ExpertKeys
        var engine: EngineDims
        var router: GroupedRouterKeys
        var mlpLayers: MLPLayerTypes
        var numSharedExperts: Int?
        var slidingWindowPattern: Int?
        /// A pattern written as text, which only the layer_types it was expanded into can say.
        var patternIsText = false

        enum CodingKeys: String, CodingKey {
            case numSharedExperts = "num_shared_experts"
            case slidingWindowPattern = "sliding_window_pattern"
        }

        init(from decoder: Decoder) throws {
            dims = try TransformerDims(from: decoder)
            experts = try ExpertKeys(from: decoder)
            engine = try EngineDims(from: decoder)
            router = try GroupedRouterKeys(from: decoder)
            mlpLayers = try MLPLayerTypes(from: decoder)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            numSharedExperts = try c.decodeIfPresent(Int.self, forKey: .numSharedExperts)
            if let n = try? c.decodeIfPresent(Int.self, forKey: .slidingWindowPattern) {
                slidingWindowPattern = n
            } else {
                patternIsText = c.contains(.slidingWindowPattern) && (try? c.decodeNil(forKey: .slidingWindowPattern)) != true
            }
        }
    }

    /// ExaoneMoeConfig's defaults: layers from first_k_dense_replace (1) on are MoE unless mlp_layer_types says,
    /// one group, top-k renormalised, routed_scaling_factor 2.5.
    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        let r = c.router
        let routing = RoutingRule(
            scoring: .sigmoid, normalizeTopK: r.normTopkProb ?? true, groups: r.nGroup ?? 1,
            topkGroups: r.topkGroup ?? 1, scalingFactor: r.routedScalingFactor ?? 2.5)
        try r.check(routing, experts: c.experts.count)
        var layout = FamilyLayout(
            dims: c.dims, experts: c.experts, routing: routing,
            moeLayers: try c.mlpLayers.moeLayers(layers: c.dims.numHiddenLayers, firstDense: r.firstKDenseReplace ?? 1),
            names: names, router: [(names[.router], 0, true), (names[.routerCorrectionBias], 0, true)])
        layout.buffers = [names[.routerCorrectionBias]]
        return layout
    }

    /// Experts fused as Qwen2-MoE's (the correction bias transformers moves into the gate is a buffer, never
    /// trained).
    static let adapterNames = Qwen2MoeFamily.adapterNames
}

extension ExaoneMoeFamily {
    /// Windowed layers are those layer_types marks, or every layer but each sliding_window_pattern-th (default 4);
    /// with a window set, only they rotate.
    static func engineSpec(_ c: Config) throws(MoESlimError) -> EngineSpec {
        let e = c.engine
        try e.requireSiLU()
        if c.patternIsText && e.layerTypes == nil {
            throw MoESlimError(.invalidConfig, "sliding_window_pattern is not a number and layer_types is missing: which layers are windowed is not stated")
        }
        let pattern = c.slidingWindowPattern ?? 4
        let windows = e.windowsFromLayerTypes { ($0 + 1) % pattern != 0 }
        var (attention, rope) = try e.groupedAttention(windows: windows)
        attention.qkNorm = .perHead
        if let w = e.slidingWindow, w > 0 {
            attention.noRopeLayers = Set(c.dims.allLayers).subtracting(windows.keys)
        }
        var spec = EngineSpec(normEps: e.eps, rope: rope, attention: attention, names: names, experts: .perExpert(names))
        spec.intermediate = e.mixtureOfIntermediateSizes(sharedExperts: c.numSharedExperts)
        return spec
    }
}
