import MoESlimSupport

/// DeepSeek-V2/V3: multi-head latent attention, dense first layers, shared experts; V3 scores with a sigmoid
/// plus a learned correction bias and picks experts inside the best groups (n_group / topk_group).
struct DeepseekFamily: EngineFamily {
    static let modelTypes = ["deepseek_v2", "deepseek_v3"]

    static let names = TensorNames([.sharedExperts: "shared_experts.", .routerCorrectionBias: "gate.e_score_correction_bias"])
    static let configBounds = ConfigBounds(
        expertKeys: ["n_group", "topk_group", "n_shared_experts"],
        dimensionKeys: ["qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim", "first_k_dense_replace", "moe_layer_freq", "q_lora_rank", "kv_lora_rank"])

    struct Config: Decodable, EngineConfigured {
        var dims: TransformerDims
        var experts: ExpertKeys
        var engine: EngineDims
        var mla: MultiLatentDims
        var router: GroupedRouterKeys
        var topkMethod: String?
        var modelType: String
        var qLoraRank: Int?
        /// Optional here so that a config without it is still described, pruned and reported; the forward pass
        /// refuses it.
        var kvLoraRank: Int?
        var ropeInterleave: Bool?
        var nSharedExperts: Int?

        enum CodingKeys: String, CodingKey {
            case topkMethod = "topk_method"
            case modelType = "model_type"
            case nSharedExperts = "n_shared_experts"
            case qLoraRank = "q_lora_rank"
            case kvLoraRank = "kv_lora_rank"
            case ropeInterleave = "rope_interleave"
        }

        init(from decoder: Decoder) throws {
            dims = try TransformerDims(from: decoder)
            experts = try ExpertKeys(from: decoder)
            engine = try EngineDims(from: decoder)
            mla = try MultiLatentDims(from: decoder)
            router = try GroupedRouterKeys(from: decoder)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            topkMethod = try c.decodeIfPresent(String.self, forKey: .topkMethod)
            modelType = try c.decode(String.self, forKey: .modelType)
            qLoraRank = try c.decodeIfPresent(Int.self, forKey: .qLoraRank)
            kvLoraRank = try c.decodeIfPresent(Int.self, forKey: .kvLoraRank)
            ropeInterleave = try c.decodeIfPresent(Bool.self, forKey: .ropeInterleave)
            nSharedExperts = try c.decodeIfPresent(Int.self, forKey: .nSharedExperts)
        }
    }

    /// As transformers' modeling_deepseek_v2 and _v3: V2's router always scores with a softmax and never
    /// renormalises the top-k (it reads neither scoring_func nor norm_topk_prob); V3's always scores with a
    /// sigmoid and renormalises as norm_topk_prob says. Layout, counting and the forward pass share this rule.
    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        try c.mla.check()
        let v3 = c.modelType.sameBytes(as: "deepseek_v3")
        // transformers' own defaults when a key is absent (DeepseekV3Config: 3 dense layers, 8 groups, top 4,
        // routed_scaling_factor 2.5; DeepseekV2Config: 1);
        // moe_layer_freq is in the original configs but transformers ignores it, and so do we.
        let first = c.router.firstKDenseReplace ?? (v3 ? 3 : 0)
        let grouped = v3 || c.topkMethod?.sameBytes(as: "group_limited_greedy") == true
        let routing = RoutingRule(
            scoring: v3 ? .sigmoid : .softmax,
            normalizeTopK: v3 && (c.router.normTopkProb ?? true),
            groups: grouped ? (c.router.nGroup ?? (v3 ? 8 : nil)) : nil,
            topkGroups: grouped ? (c.router.topkGroup ?? (v3 ? 4 : nil)) : nil,
            scalingFactor: c.router.routedScalingFactor ?? (v3 ? 2.5 : 1))
        try c.router.check(routing, experts: c.experts.count)
        var layout = FamilyLayout(
            dims: c.dims, experts: c.experts, attention: c.mla.attention(c.dims), routing: routing,
            moeLayers: c.dims.allLayers.filter { $0 >= first },
            names: names,
            router: [(names[.router], 0, true), (names[.routerCorrectionBias], 0, v3)])
        layout.buffers = [names[.routerCorrectionBias]]
        layout.multiTokenPrediction = nextTokenBlock(names, layers: c.dims.numHiddenLayers)
        return layout
    }

    /// DeepSeek-V3/V3.2 and GLM-4.5+ store their multi-token-prediction block as the layer after the last,
    /// `model.layers.<num_hidden_layers>.`, counted by num_nextn_predict_layers; it has experts of its own.
    static func nextTokenBlock(_ names: TensorNames, layers: Int) -> (prefixes: [String], configKey: String) {
        ([names.layer(layers)], "num_nextn_predict_layers")
    }

    /// Experts fused on loading as Qwen2-MoE's; the MLA projections, shared experts and router keep their names.
    static let adapterNames = Qwen2MoeFamily.adapterNames

    /// The router transformers' later DeepSeek-style classes share (GLM-4.7-Flash, DeepSeek-V3.2, GLM-5): V3's
    /// sigmoid scores, correction bias, groups and scaling, with their own config-class defaults and MoE layers.
    struct RouterDefaults {
        var groups: Int
        var topkGroups: Int
        var scaling: Double
    }

    static func sigmoidGroupedLayout(
        _ c: Config, names: TensorNames = names, moeLayers: [Int], defaults: RouterDefaults
    ) throws(MoESlimError) -> FamilyLayout {
        try c.mla.check()
        let routing = RoutingRule(
            scoring: .sigmoid, normalizeTopK: c.router.normTopkProb ?? true, groups: c.router.nGroup ?? defaults.groups,
            topkGroups: c.router.topkGroup ?? defaults.topkGroups, scalingFactor: c.router.routedScalingFactor ?? defaults.scaling)
        try c.router.check(routing, experts: c.experts.count)
        var layout = FamilyLayout(
            dims: c.dims, experts: c.experts, attention: c.mla.attention(c.dims), routing: routing, moeLayers: moeLayers,
            names: names, router: [(names[.router], 0, true), (names[.routerCorrectionBias], 0, true)])
        layout.buffers = [names[.routerCorrectionBias]]
        layout.multiTokenPrediction = nextTokenBlock(names, layers: c.dims.numHiddenLayers)
        return layout
    }
}

/// The router keys DeepSeek-V3 introduced and GLM-4.5 reuses: dense first layers, expert groups, top-k
/// renormalisation and the routed scaling factor.
struct GroupedRouterKeys: Decodable {
    var firstKDenseReplace: Int?
    var nGroup: Int?
    var topkGroup: Int?
    var normTopkProb: Bool?
    var routedScalingFactor: Double?

    enum CodingKeys: String, CodingKey {
        case firstKDenseReplace = "first_k_dense_replace"
        case nGroup = "n_group"
        case topkGroup = "topk_group"
        case normTopkProb = "norm_topk_prob"
        case routedScalingFactor = "routed_scaling_factor"
    }

    /// transformers views the experts as n_group equal groups and takes the topk_group best of them: a group
    /// count that does not divide the experts, or more groups kept than exist, fails in the model's forward.
    func check(_ routing: RoutingRule, experts: Int) throws(MoESlimError) {
        guard let groups = routing.groups else { return }
        guard groups >= 1, experts % groups == 0 else {
            throw MoESlimError(.invalidConfig, "n_group is \(groups); it must be a positive divisor of the \(experts) experts")
        }
        guard let keep = routing.topkGroups, (1...groups).contains(keep) else {
            throw MoESlimError(.invalidConfig, "topk_group is \(routing.topkGroups.map(String.init) ?? "missing"); it must be between 1 and n_group (\(groups))")
        }
    }
}

/// Multi-head latent attention widths (DeepSeek-V2/V3).
struct MultiLatentDims: Decodable {
    var qkNopeHeadDim: Int
    var qkRopeHeadDim: Int
    var vHeadDim: Int

    enum CodingKeys: String, CodingKey {
        case qkNopeHeadDim = "qk_nope_head_dim"
        case qkRopeHeadDim = "qk_rope_head_dim"
        case vHeadDim = "v_head_dim"
    }

    /// transformers builds Linear layers of these widths; qk_rope_head_dim is also the rotary width.
    func check() throws(MoESlimError) {
        for (key, value) in [("qk_nope_head_dim", qkNopeHeadDim), ("qk_rope_head_dim", qkRopeHeadDim), ("v_head_dim", vHeadDim)] where value < 1 {
            throw MoESlimError(.invalidConfig, "\(key) is \(value); it must be a positive integer")
        }
    }

    func attention(_ dims: TransformerDims) -> AttentionShape {
        AttentionShape(
            kind: .multiLatent, numHeads: dims.numAttentionHeads, numKeyValueHeads: dims.numAttentionHeads,
            queryKeyHeadDim: qkNopeHeadDim + qkRopeHeadDim, valueHeadDim: vHeadDim, slidingWindow: nil, slidingLayers: [])
    }
}

extension DeepseekFamily {
    /// The router is the layout's (see `layout`); the MLA projections add kv_lora_rank and q_lora_rank.
    static func engineSpec(_ c: Config) throws(MoESlimError) -> EngineSpec { try engineSpec(c, names: names) }

    /// The same forward pass under another name table, for a wrapper that keeps this decoder under its own
    /// prefix (kimi_k25).
    static func engineSpec(_ c: Config, names: TensorNames) throws(MoESlimError) -> EngineSpec {
        guard let kvLoraRank = c.kvLoraRank else {
            throw MoESlimError(.invalidConfig, "config lacks what the forward pass needs: missing key 'kv_lora_rank'")
        }
        try c.engine.requireSiLU()
        let mla = MultiLatentSpec(
            qLoraRank: c.qLoraRank, kvLoraRank: kvLoraRank, nopeDim: c.mla.qkNopeHeadDim, ropeDim: c.mla.qkRopeHeadDim,
            valueDim: c.mla.vHeadDim)
        let qkDim = c.mla.qkNopeHeadDim + c.mla.qkRopeHeadDim
        let attention = AttentionSpec(
            kind: .multiLatent(mla), numHeads: c.engine.numAttentionHeads, numKeyValueHeads: c.engine.numAttentionHeads,
            headDim: qkDim, scaling: c.engine.rope.deepseekScaling(1 / Float(qkDim).squareRoot()))
        let rope = try c.engine.rope.spec(
            rotaryDim: c.mla.qkRopeHeadDim, layout: c.ropeInterleave ?? true ? .pairs : .halves, maxPositions: c.engine.maxPositionEmbeddings)
        var spec = EngineSpec(
            normEps: c.engine.eps, rope: rope, attention: attention, names: names,
            experts: .perExpert(names))
        spec.intermediate = c.engine.mixtureOfIntermediateSizes(sharedExperts: c.nSharedExperts)
        if c.modelType.sameBytes(as: "deepseek_v2") { spec.groupScore = .maximum }
        return spec
    }
}
