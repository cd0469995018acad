import MoESlimSupport

/// Llama 4 (text): fused experts under feed_forward, one shared expert, sigmoid of the top-1 logit, MoE every
/// interleave_moe_layer_step layers (or the explicit moe_layers list).
struct Llama4TextFamily: EngineFamily {
    static let modelTypes = ["llama4_text"]

    /// The MLP of every layer is feed_forward (dense or MoE), with one shared expert.
    static let names = TensorNames([
        .moeBlock: "feed_forward.", .denseMLP: "feed_forward.", .router: "router.weight", .sharedExperts: "shared_expert.",
    ])
    static let configBounds = ConfigBounds(
        dimensionKeys: ["interleave_moe_layer_step", "intermediate_size_mlp"], layerListKeys: ["moe_layers"])

    struct Config: Decodable, EngineConfigured {
        var dims: TransformerDims
        var experts: ExpertKeys
        var engine: EngineDims
        var moeLayers: [Int]?
        var interleaveMoeLayerStep: Int?
        var noRopeLayers: [Int]?
        var noRopeLayerInterval: Int?
        var attentionChunkSize: Int?
        var useQkNorm: Bool?
        var attnTemperatureTuning: Bool?
        var floorScale: Double?
        var attnScale: Double?
        var intermediateSizeMLP: Int?

        enum CodingKeys: String, CodingKey {
            case moeLayers = "moe_layers"
            case interleaveMoeLayerStep = "interleave_moe_layer_step"
            case intermediateSizeMLP = "intermediate_size_mlp"
            case noRopeLayers = "no_rope_layers"
            case noRopeLayerInterval = "no_rope_layer_interval"
            case attentionChunkSize = "attention_chunk_size"
            case useQkNorm = "use_qk_norm"
            case attnTemperatureTuning = "attn_temperature_tuning"
            case floorScale = "floor_scale"
            case attnScale = "attn_scale"
        }

        init(from decoder: Decoder) throws {
            dims = try TransformerDims(from: decoder)
            experts = try ExpertKeys(from: decoder)
            engine = try EngineDims(from: decoder)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            moeLayers = try c.decodeIfPresent([Int].self, forKey: .moeLayers)
            interleaveMoeLayerStep = try c.decodeIfPresent(Int.self, forKey: .interleaveMoeLayerStep)
            noRopeLayers = try c.decodeIfPresent([Int].self, forKey: .noRopeLayers)
            noRopeLayerInterval = try c.decodeIfPresent(Int.self, forKey: .noRopeLayerInterval)
            attentionChunkSize = try c.decodeIfPresent(Int.self, forKey: .attentionChunkSize)
            useQkNorm = try c.decodeIfPresent(Bool.self, forKey: .useQkNorm)
            attnTemperatureTuning = try c.decodeIfPresent(Bool.self, forKey: .attnTemperatureTuning)
            floorScale = try c.decodeIfPresent(Double.self, forKey: .floorScale)
            attnScale = try c.decodeIfPresent(Double.self, forKey: .attnScale)
            intermediateSizeMLP = try c.decodeIfPresent(Int.self, forKey: .intermediateSizeMLP)
        }
    }

    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        let step = max(c.interleaveMoeLayerStep ?? 1, 1)
        let layers = c.moeLayers ?? Array(stride(from: step - 1, to: c.dims.numHiddenLayers, by: step))
        return FamilyLayout(
            dims: c.dims, experts: c.experts,
            routing: RoutingRule(scoring: .sigmoid, normalizeTopK: false, groups: nil, topkGroups: nil, scalingFactor: 1),
            moeLayers: layers, names: names)
    }

    /// Stored fused as at training time. The experts are (experts, in, out) but not marked `is_transposed`, so PEFT
    /// takes them as (experts, out, in) and its factors follow that reading; so does the merge.
    static let adapterNames = AdapterNameMap.identity
}

extension Llama4TextFamily {
    /// no_rope_layers holds 1 for layers that rotate (transformers' naming); without it every
    /// no_rope_layer_interval-th layer skips RoPE. Rotating layers attend in chunks of attention_chunk_size.
    static func engineSpec(_ c: Config) throws(MoESlimError) -> EngineSpec {
        try c.engine.requireSiLU()
        let layers = c.engine.numHiddenLayers
        if let chunk = c.attentionChunkSize, chunk < 1 {
            throw MoESlimError(.invalidConfig, "attention_chunk_size is \(chunk); it must be a positive integer")
        }
        if let listed = c.noRopeLayers, listed.count != layers {
            throw MoESlimError(.invalidConfig, "no_rope_layers must have one entry per layer (num_hidden_layers is \(layers)), not \(listed.count)")
        }
        let interval = max(c.noRopeLayerInterval ?? 4, 1)
        let rotates = c.noRopeLayers.map { $0.map { $0 != 0 } } ?? (0..<layers).map { ($0 + 1) % interval != 0 }
        var (attention, rope) = try c.engine.groupedAttention(ropeLayout: .pairs)
        attention.noRopeLayers = Set((0..<layers).filter { !rotates[$0] })
        if let chunk = c.attentionChunkSize {
            let chunked = c.engine.layerTypes.map { $0.indices.filter { c.engine.layerTypes?[$0].sameBytes(as: "chunked_attention") == true } }
                ?? (0..<layers).filter { rotates[$0] }
            attention.chunks = Dictionary(uniqueKeysWithValues: chunked.map { ($0, chunk) })
        }
        if c.useQkNorm ?? true { attention.qkNorm = .unweightedAfterRope }
        if c.attnTemperatureTuning ?? true {
            attention.temperatureTuning = (Float(c.floorScale ?? 8192), Float(c.attnScale ?? 0.1))
        }
        var spec = EngineSpec(
            normEps: c.engine.eps, rope: rope, attention: attention, names: names,
            experts: .fusedGateUpInputMajor(gateUp: names[.fusedGateUp], down: names[.fusedDown]))
        spec.gateScalesExpertInput = true
        let width = c.engine.intermediateSize
        spec.intermediate = IntermediateSizes(experts: width, shared: width, dense: c.intermediateSizeMLP)
        return spec
    }
}
