import MoESlimSupport

/// ERNIE 4.5 MoE: softmax router whose selection adds a correction bias stored as [1, E] under moe_statics,
/// shared experts, MoE layers from moe_layer_start_index to moe_layer_end_index every moe_layer_interval.
struct Ernie45MoeFamily: EngineFamily {
    static let modelTypes = ["ernie4_5_moe"]

    static let names = TensorNames([.sharedExperts: "shared_experts.", .routerCorrectionBias: "moe_statics.e_score_correction_bias"])
    static let configBounds = ConfigBounds(
        expertKeys: ["moe_num_shared_experts"], dimensionKeys: ["moe_layer_start_index", "moe_layer_interval"],
        layerIndexKeys: ["moe_layer_end_index"])

    struct Config: Decodable, EngineConfigured {
        var dims: TransformerDims
        var experts: ExpertKeys
        var engine: EngineDims
        var moeLayerStartIndex: Int?
        var moeLayerEndIndex: Int?
        var moeLayerInterval: Int?
        var useBias: Bool?
        var moeNormMin: Double?
        var moeNumSharedExperts: Int?

        enum CodingKeys: String, CodingKey {
            case moeLayerStartIndex = "moe_layer_start_index"
            case moeLayerEndIndex = "moe_layer_end_index"
            case moeLayerInterval = "moe_layer_interval"
            case useBias = "use_bias"
            case moeNormMin = "moe_norm_min"
            case moeNumSharedExperts = "moe_num_shared_experts"
        }

        init(from decoder: Decoder) throws {
            dims = try TransformerDims(from: decoder)
            experts = try ExpertKeys(from: decoder)
            engine = try EngineDims(from: decoder)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            moeLayerStartIndex = try c.decodeIfPresent(Int.self, forKey: .moeLayerStartIndex)
            moeLayerEndIndex = try c.decodeIfPresent(Int.self, forKey: .moeLayerEndIndex)
            moeLayerInterval = try c.decodeIfPresent(Int.self, forKey: .moeLayerInterval)
            useBias = try c.decodeIfPresent(Bool.self, forKey: .useBias)
            moeNormMin = try c.decodeIfPresent(Double.self, forKey: .moeNormMin)
            moeNumSharedExperts = try c.decodeIfPresent(Int.self, forKey: .moeNumSharedExperts)
        }
    }

    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        let start = c.moeLayerStartIndex ?? 1
        let end = (c.moeLayerEndIndex ?? -1) < 0 ? c.dims.numHiddenLayers - 1 : c.moeLayerEndIndex!
        let interval = max(c.moeLayerInterval ?? 1, 1)
        return FamilyLayout(
            dims: c.dims, experts: c.experts, tiedByDefault: true, routing: .softmax(normalize: true),
            moeLayers: c.dims.allLayers.filter { $0 >= start && $0 <= end && ($0 + 1) % interval == 0 },
            names: names,
            router: [(names[.router], 0, true), (names[.routerCorrectionBias], 1, false)])
    }

    /// Experts fused on loading as Qwen2-MoE's, and moe_statics moves under the router (`mlp.gate.moe_statics`).
    static let adapterNames = AdapterNameMap(
        renames: [(".mlp.gate.moe_statics.", ".mlp.moe_statics.")], fusedExperts: Qwen2MoeFamily.adapterNames.fusedExperts)
}

extension Ernie45MoeFamily {
    /// transformers divides the top-k weights by max(sum, moe_norm_min); the top-k of a softmax sums to at least
    /// k/E, so the clamp only matters for a moe_norm_min no released config uses, and such configs are refused.
    static func engineSpec(_ c: Config) throws(MoESlimError) -> EngineSpec {
        try c.engine.requireSiLU()
        if c.useBias == true {
            throw MoESlimError(.unsupportedModel, "calibrate does not support ernie4_5_moe with use_bias (biased MLPs)")
        }
        if let normMin = c.moeNormMin, normMin >= 1e-3 {
            throw MoESlimError(.unsupportedModel, "calibrate does not support ernie4_5_moe with moe_norm_min \(normMin)")
        }
        let (attention, rope) = try c.engine.groupedAttention(ropeLayout: .pairs)
        var spec = EngineSpec(
            normEps: c.engine.eps, rope: rope, attention: attention, names: names,
            experts: .perExpert(names))
        spec.intermediate = c.engine.mixtureOfIntermediateSizes(sharedExperts: c.moeNumSharedExperts)
        return spec
    }
}
