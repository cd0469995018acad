import MoESlimSupport

/// Qwen2-MoE: per-expert SwiGLU under mlp plus one shared expert with a sigmoid gate; MoE layers chosen by
/// decoder_sparse_step and mlp_only_layers.
struct Qwen2MoeFamily: EngineFamily {
    static let modelTypes = ["qwen2_moe"]

    static let names = TensorNames([.sharedExperts: "shared_expert.", .sharedExpertGate: "shared_expert_gate."])
    static let configBounds = QwenSparseLayers.bounds

    typealias Config = QwenMoEConfig

    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        return FamilyLayout(
            dims: c.dims, experts: c.experts, routing: .softmax(normalize: c.sparse.normTopkProb ?? false),
            moeLayers: c.sparse.moeLayers(c.dims, experts: c.experts.count),
            names: names)
    }

    /// transformers 5 fuses `mlp.experts.<e>.gate_proj|up_proj` into gate_up_proj and down_proj into one stack.
    /// conversion_mapping.py applies this same pattern to most MoE families, which reuse this map.
    static let adapterNames = AdapterNameMap(fusedExperts: [
        .init(training: "experts.gate_up_proj", parts: [names[.gate], names[.up]]),
        .init(training: "experts.down_proj", parts: [names[.down]]),
    ])
}

/// The config both Qwen MoE families read (qwen3_moe has no shared expert and ignores its width).
struct QwenMoEConfig: Decodable, EngineConfigured {
    var dims: TransformerDims
    var experts: ExpertKeys
    var engine: EngineDims
    var sparse: QwenSparseLayers
    var sharedExpertIntermediateSize: Int?

    enum CodingKeys: String, CodingKey {
        case sharedExpertIntermediateSize = "shared_expert_intermediate_size"
    }

    init(from decoder: Decoder) throws {
        dims = try TransformerDims(from: decoder)
        experts = try ExpertKeys(from: decoder)
        engine = try EngineDims(from: decoder)
        sparse = try QwenSparseLayers(from: decoder)
        sharedExpertIntermediateSize = try decoder.container(keyedBy: CodingKeys.self)
            .decodeIfPresent(Int.self, forKey: .sharedExpertIntermediateSize)
    }
}

/// The Qwen MoE families' rule for which layers are sparse.
struct QwenSparseLayers: Decodable {
    static let bounds = ConfigBounds(
        dimensionKeys: ["decoder_sparse_step", "shared_expert_intermediate_size"], layerListKeys: ["mlp_only_layers"],
        positiveKeys: ["shared_expert_intermediate_size"])

    var decoderSparseStep: Int?
    var mlpOnlyLayers: [Int]?
    var normTopkProb: Bool?

    enum CodingKeys: String, CodingKey {
        case decoderSparseStep = "decoder_sparse_step"
        case mlpOnlyLayers = "mlp_only_layers"
        case normTopkProb = "norm_topk_prob"
    }

    func moeLayers(_ dims: TransformerDims, experts: Int) -> [Int] {
        let step = max(decoderSparseStep ?? 1, 1)
        let dense = Set(mlpOnlyLayers ?? [])
        return dims.allLayers.filter { !dense.contains($0) && experts > 0 && ($0 + 1) % step == 0 }
    }
}

extension Qwen2MoeFamily {
    static func engineSpec(_ config: Config) throws(MoESlimError) -> EngineSpec {
        let c = config.engine
        try c.requireSiLU()
        let sliding = c.useSlidingWindow == true
        let (attention, rope) = try c.groupedAttention(
            windows: sliding ? c.windowsFromLayerTypes { $0 % 2 == 0 && $0 < (c.maxWindowLayers ?? 28) } : [:])
        var spec = EngineSpec(
            normEps: c.eps, rope: rope, attention: attention, names: names,
            experts: .perExpert(names))
        spec.intermediate = IntermediateSizes(
            experts: c.moeIntermediateSize, shared: config.sharedExpertIntermediateSize, dense: c.intermediateSize)
        return spec
    }
}
