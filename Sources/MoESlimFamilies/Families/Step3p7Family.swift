import Foundation
import MoESlimSupport

/// StepFun Step-3.x as released (`step3p7`, Step-3.7-Flash): the multimodal wrapper around a `step3p5` language
/// model. config.json nests the language model's keys in text_config, in the releases' spellings (moe_num_experts,
/// moe_top_k, num_attention_groups, moe_layers_enum) or transformers 5's (n_routed_experts, num_experts_per_tok,
/// num_key_value_heads, mlp_layer_types). The tensors are stored as the releases ship them, which is also what
/// transformers 5.25 saves (its step3p7 conversion mapping reversed): the decoder under model.layers., each MoE
/// layer's router (moe.gate.weight, moe.router_bias) and experts stacked per projection (moe.gate_proj.weight and
/// moe.up_proj.weight [E, I, H], moe.down_proj.weight [E, H, I]) beside a shared expert (share_expert.) directly
/// under the layer; the dense layers' MLP under mlp.; vision_model. and vit_large_projector. are copied untouched.
/// The router scores with a sigmoid, chooses on the scores plus router_bias, renormalises the chosen scores and
/// scales them by moe_router_scaling_factor. The num_nextn_predict_layers multi-token-prediction layers follow the
/// last decoder layer (model.layers.<num_hidden_layers + i>.) with experts of their own.
/// The forward pass runs the text model: zero-centred RMSNorms (also the per-head q/k norms), grouped-query
/// attention whose sliding-window layers have a head count of their own, each head's output gated by sigmoid of
/// its g_proj row, rotary theta and partial factor per layer type, and SwiGLU clamped per layer (swiglu_limits for
/// the experts, swiglu_limits_shared for the shared expert and the dense MLP). Image tokens also route through
/// these experts; calibrate and eval run text only and warn so (as for every wrapper with a text_config).
struct Step3p7Family: EngineFamily {
    static let modelTypes = ["step3p7"]

    /// The MoE block is the layer itself: the router and experts are under moe., the shared expert beside them.
    static let names = TensorNames([
        .moeBlock: "", .router: "moe.gate.weight", .routerCorrectionBias: "moe.router_bias", .sharedExperts: "share_expert.",
        .attentionGate: "g_proj",
    ])
    /// The expert stacks, each with the expert on axis 0 (quantization scales stored beside them included).
    static let fusedExperts = ["moe.gate_proj.", "moe.up_proj.", "moe.down_proj."]
    static let configBounds = ConfigBounds(
        dimensionKeys: ["share_expert_dim", "share_expert_dims", "num_attention_groups", "num_nextn_predict_layers", "num_sliding_attention_heads"],
        positiveKeys: ["share_expert_dim", "share_expert_dims", "num_attention_groups", "num_sliding_attention_heads"],
        perLayerNumberKeys: ["rope_theta"], replacedKeys: ["hidden_act"])
    static let configSection: String? = "text_config"

    struct Config: Decodable, EngineConfigured {
        /// The expert-count and top-k spellings Step3p7TextConfig reads (its attribute_map), native first.
        static let countKeys = ["n_routed_experts", "moe_num_experts", "num_local_experts"]
        static let topKKeys = ["num_experts_per_tok", "moe_top_k"]

        var dims: TransformerDims
        var experts: ExpertKeys
        var engine: EngineDims
        var step: StepKeys
        var mlpLayerTypes: [String]?
        var moeLayersEnum: [Int]?
        var mtpLayers: Int
        var scalingFactor: Double

        enum CodingKeys: String, CodingKey {
            case mlpLayerTypes = "mlp_layer_types"
            case moeLayersEnum = "moe_layers_enum"
            case mtpLayers = "num_nextn_predict_layers"
            case scalingFactor = "moe_router_scaling_factor"
            case keyValueGroups = "num_attention_groups"
        }

        init(from decoder: Decoder) throws {
            dims = try TransformerDims(from: decoder)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let any = try decoder.container(keyedBy: ExpertKeys.AnyKey.self)
            /// The spellings are aliases of one value: present ones must agree, and one must be present.
            func agreed(_ keys: [String]) throws -> (Int, String) {
                var found: (Int, String)?
                for key in keys {
                    guard let value = try any.decodeIfPresent(Int.self, forKey: ExpertKeys.AnyKey(stringValue: key)) else { continue }
                    if let (first, firstKey) = found, first != value {
                        throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "\(firstKey) is \(first) but its alias \(key) is \(value)"))
                    }
                    found = found ?? (value, key)
                }
                guard let found else {
                    throw DecodingError.keyNotFound(ExpertKeys.AnyKey(stringValue: keys[0]), .init(codingPath: [], debugDescription: "missing"))
                }
                return found
            }
            let (count, countKey) = try agreed(Self.countKeys)
            let (topK, topKKey) = try agreed(Self.topKKeys)
            experts = ExpertKeys(count: count, countKey: countKey, topK: topK, topKKey: topKKey)
            dims.numKeyValueHeads = try dims.numKeyValueHeads ?? c.decodeIfPresent(Int.self, forKey: .keyValueGroups)
            engine = try EngineDims(from: decoder)
            engine.numKeyValueHeads = dims.numKeyValueHeads
            step = try StepKeys(from: decoder)
            mtpLayers = try c.decodeIfPresent(Int.self, forKey: .mtpLayers) ?? 0
            scalingFactor = try c.decodeIfPresent(Double.self, forKey: .scalingFactor) ?? 1
            mlpLayerTypes = try c.decodeIfPresent([String].self, forKey: .mlpLayerTypes)
            // moe_layers_enum is a comma-separated string in the releases ("3,4,...,44") or a list of layers.
            if let text = try? c.decode(String.self, forKey: .moeLayersEnum) {
                moeLayersEnum = try text.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).compactMap { item in
                    let blank: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
                    let digits = String(decoding: item.drop(while: blank).reversed().drop(while: blank).reversed(), as: UTF8.self)
                    if digits.isEmpty { return nil }
                    guard let layer = Int(digits) else {
                        throw DecodingError.dataCorruptedError(forKey: .moeLayersEnum, in: c, debugDescription: "moe_layers_enum has \(JSONValue.quote(digits)), which is not a layer number")
                    }
                    return layer
                }
            } else {
                moeLayersEnum = try c.decodeIfPresent([Int].self, forKey: .moeLayersEnum)
            }
        }

        /// Step3p7TextConfig's MoE layers: mlp_layer_types ("sparse" or "dense", padded with the
        /// multi-token-prediction layers' entries or not), else the decoder layers moe_layers_enum lists (it
        /// ignores other numbers, such as the multi-token-prediction layers', which stay listed when prune drops
        /// those), else every layer from 3 on.
        func moeLayers() throws(MoESlimError) -> [Int] {
            let layers = dims.numHiddenLayers
            if let types = mlpLayerTypes {
                guard types.count == layers || types.count == layers + mtpLayers else {
                    throw MoESlimError(.invalidConfig, "mlp_layer_types lists \(types.count) layers; num_hidden_layers is \(layers) (and num_nextn_predict_layers \(mtpLayers))")
                }
                var sparse: [Int] = []
                for (layer, type) in types.prefix(layers).enumerated() {
                    if type.sameBytes(as: "sparse") {
                        sparse.append(layer)
                    } else if !type.sameBytes(as: "dense") {
                        throw MoESlimError(.invalidConfig, "mlp_layer_types[\(layer)] is \(JSONValue.quote(type)); Step's MLP layers are \"sparse\" or \"dense\"")
                    }
                }
                return sparse
            }
            guard let listed = moeLayersEnum else { return Array(min(3, layers)..<layers) }
            return Set(listed).filter { (0..<layers).contains($0) }.sorted()
        }
    }

    /// Step3p7TopKRouter: sigmoid scores, top-k on the scores plus the correction bias, the chosen scores
    /// renormalised always (the releases' norm_expert_weight is not read) and scaled by moe_router_scaling_factor.
    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        guard c.mtpLayers <= ConfigLimits.maxLayers else {
            throw MoESlimError(.invalidConfig, "num_nextn_predict_layers is \(c.mtpLayers), more than \(ConfigLimits.maxLayers)")
        }
        guard c.scalingFactor.isFinite, c.scalingFactor > 0 else {
            throw MoESlimError(.invalidConfig, "moe_router_scaling_factor is \(c.scalingFactor); it must be a positive number")
        }
        let routing = RoutingRule(scoring: .sigmoid, normalizeTopK: true, groups: nil, topkGroups: nil, scalingFactor: c.scalingFactor)
        var layout = FamilyLayout(
            dims: c.dims, experts: c.experts, routing: routing, moeLayers: try c.moeLayers(), names: names,
            router: [(names[.router], 0, true), (names[.routerCorrectionBias], 0, false)])
        layout.fusedExpertNames = fusedExperts
        // router_bias is Step3p7TopKRouter's e_score_correction_bias, a buffer transformers does not count.
        layout.buffers = [names[.routerCorrectionBias]]
        let mtp = c.dims.numHiddenLayers ..< c.dims.numHiddenLayers + max(c.mtpLayers, 1)
        layout.multiTokenPrediction = (mtp.map(names.layer), "num_nextn_predict_layers")
        return layout
    }

    /// The reverse of transformers 5.25's step3p7 conversion mapping for what adapters touch: at training time
    /// the decoder is model.language_model. with the router at mlp.gate, the shared expert at mlp.shared_experts.
    /// and the experts as mlp.experts.gate_up_proj [E, 2I, H] and mlp.experts.down_proj [E, H, I]; the projector is
    /// model.multi_modal_projector. down_proj maps to the stored stack; gate_up_proj is stored as two stacks, which
    /// no rename reaches, so an adapter on it is refused by name (as one on the vision tower, whose modules are
    /// renamed and its q/k/v fused on disk).
    static let adapterNames = AdapterNameMap(renames: [
        ("model.language_model.", "model."), ("model.multi_modal_projector.", "vit_large_projector."),
        ("model.vision_model.", "vision_model."), (".mlp.shared_experts.", ".share_expert."),
        (".mlp.gate.weight", ".moe.gate.weight"), (".mlp.experts.down_proj", ".moe.down_proj.weight"),
    ])

    static func engineSpec(_ c: Config) throws(MoESlimError) -> EngineSpec {
        let e = c.engine, s = c.step, layers = c.dims.numHiddenLayers
        if s.useBidirectionalAttention == true {
            throw MoESlimError(.unsupportedModel, "use_bidirectional_attention is true; the forward pass runs causal attention only")
        }
        if s.mlpBias == true {
            throw MoESlimError(.unsupportedModel, "mlp_bias is true; the forward pass runs Step's MLPs without biases")
        }
        let dim = e.resolvedHeadDim
        let kv = e.numKeyValueHeads ?? e.numAttentionHeads
        let types = c.dims.layerTypes ?? Array(repeating: "full_attention", count: layers)
        let sliding = Set(types.indices.filter { types[$0].sameBytes(as: "sliding_attention") })
        if let other = types.first(where: { !$0.sameBytes(as: "sliding_attention") && !$0.sameBytes(as: "full_attention") }) {
            throw MoESlimError(.unsupportedModel, "layer_types has \(JSONValue.quote(other)); the forward pass runs \"full_attention\" and \"sliding_attention\" layers")
        }
        var heads: [Int: Int] = [:]
        for layer in sliding { heads[layer] = s.slidingHeads ?? e.numAttentionHeads }
        for (key, entry) in s.perLayerConfig ?? [:] {
            guard let layer = Int(key), (0..<layers).contains(layer) else { continue }
            if let n = entry.numAttentionHeads { heads[layer] = n }
        }
        // attention_other_setting and per_layer_config are nested, beyond ConfigLimits' reach: bounded here. Every
        // layer is checked, because num_attention_groups (the releases' num_key_value_heads) is not checked against
        // num_attention_heads elsewhere, and attention groups heads by heads / kv.
        for layer in 0..<layers {
            let n = heads[layer] ?? e.numAttentionHeads
            guard (1...ConfigLimits.maxDimension).contains(n), n % kv == 0 else {
                throw MoESlimError(.invalidConfig, "layer \(layer) has \(n) attention heads; it must be a positive multiple of the \(kv) key-value heads")
            }
        }
        let scalar = s.queryPreAttnScalar ?? Double(dim)
        guard scalar.isFinite, scalar > 0 else {
            throw MoESlimError(.invalidConfig, "query_pre_attn_scalar is \(scalar); it must be a positive number")
        }
        var attention = AttentionSpec(kind: .grouped, numHeads: e.numAttentionHeads, numKeyValueHeads: kv, headDim: dim, scaling: Float(1 / scalar.squareRoot()))
        attention.qkNorm = .perHead
        attention.normWeightOffset = 1
        attention.headGate = true
        attention.headsPerLayer = heads.filter { $0.value != e.numAttentionHeads }
        if let window = c.dims.slidingWindow, window > 0 {
            for layer in sliding { attention.slidingWindows[layer] = window }
        }
        var ropes: [String: RopeSpec] = [:]
        // Step3p7TextConfig reads rope_parameters per type only when it has an entry for every type; otherwise it
        // builds every type's rotation from rope_theta and partial_rotary_factors.
        let byType = types.allSatisfy { type in s.ropeByType?.keys.contains { $0.sameBytes(as: type) } == true }
        for type in Set(types) {
            ropes[type] = try s.rope(for: type, first: types.firstIndex(of: type) ?? 0, headDim: dim, byType: byType)
        }
        var spec = EngineSpec(
            normEps: Float(e.rmsNormEps ?? 1e-5), rope: ropes["full_attention"] ?? ropes.values.first ?? RopeSpec(inverseFrequencies: [], attentionFactor: 1, layout: .halves),
            attention: attention, names: names,
            experts: .stacked(gate: fusedExperts[0] + "weight", up: fusedExperts[1] + "weight", down: fusedExperts[2] + "weight"))
        for (layer, type) in types.enumerated() { spec.layerRopes[layer] = ropes[type] }
        spec.norm = .zeroCenteredRMS
        spec.intermediate = IntermediateSizes(experts: e.moeIntermediateSize ?? 1280, shared: s.sharedWidth ?? 1280, dense: e.intermediateSize ?? 11264)
        // Step3p7Experts reads its MoE layer's entry and Step3p7MLP (shared expert or dense MLP) every layer's.
        spec.expertLimits = try StepKeys.limits(s.swigluLimits, "swiglu_limits", layers: layers, read: (try c.moeLayers().max() ?? -1) + 1)
        spec.sharedLimits = try StepKeys.limits(s.swigluLimitsShared, "swiglu_limits_shared", layers: layers, read: layers)
        return spec
    }
}

/// The keys only Step's forward pass reads, in the releases' spellings and transformers 5's.
struct StepKeys: Decodable {
    struct LayerRope: Decodable {
        var ropeType: String?
        var ropeTheta: Double?
        var partialRotaryFactor: Double?

        enum CodingKeys: String, CodingKey {
            case ropeType = "rope_type"
            case ropeTheta = "rope_theta"
            case partialRotaryFactor = "partial_rotary_factor"
        }
    }

    struct LayerOverride: Decodable {
        var numAttentionHeads: Int?
        enum CodingKeys: String, CodingKey { case numAttentionHeads = "num_attention_heads" }
    }

    struct OtherSetting: Decodable {
        var numAttentionHeads: Int?
        enum CodingKeys: String, CodingKey { case numAttentionHeads = "num_attention_heads" }
    }

    var slidingHeads: Int?
    var perLayerConfig: [String: LayerOverride]?
    var queryPreAttnScalar: Double?
    var sharedWidth: Int?
    var swigluLimits: [Double?]?
    var swigluLimitsShared: [Double?]?
    var useBidirectionalAttention: Bool?
    var mlpBias: Bool?
    /// rope_parameters per layer type, when it has an entry for every type (transformers' saved form).
    var ropeByType: [String: LayerRope]?
    var ropeScaling: Bool
    var thetas: [Double]?
    var theta: Double?
    var partialFactors: [Double]?

    enum CodingKeys: String, CodingKey {
        case slidingHeads = "num_sliding_attention_heads"
        case otherSetting = "attention_other_setting"
        case perLayerConfig = "per_layer_config"
        case queryPreAttnScalar = "query_pre_attn_scalar"
        case sharedWidth = "share_expert_dim"
        case sharedWidthAlias = "share_expert_dims"
        case swigluLimits = "swiglu_limits"
        case swigluLimitsShared = "swiglu_limits_shared"
        case useBidirectionalAttention = "use_bidirectional_attention"
        case mlpBias = "mlp_bias"
        case ropeParameters = "rope_parameters"
        case ropeScaling = "rope_scaling"
        case ropeTheta = "rope_theta"
        case partialFactors = "partial_rotary_factors"
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        slidingHeads = try c.decodeIfPresent(Int.self, forKey: .slidingHeads)
            ?? c.decodeIfPresent(OtherSetting.self, forKey: .otherSetting)?.numAttentionHeads
        perLayerConfig = try c.decodeIfPresent([String: LayerOverride].self, forKey: .perLayerConfig)
        queryPreAttnScalar = try c.decodeIfPresent(Double.self, forKey: .queryPreAttnScalar)
        sharedWidth = try c.decodeIfPresent(Int.self, forKey: .sharedWidth) ?? c.decodeIfPresent(Int.self, forKey: .sharedWidthAlias)
        swigluLimits = try c.decodeIfPresent([Double?].self, forKey: .swigluLimits)
        swigluLimitsShared = try c.decodeIfPresent([Double?].self, forKey: .swigluLimitsShared)
        useBidirectionalAttention = try c.decodeIfPresent(Bool.self, forKey: .useBidirectionalAttention)
        mlpBias = try c.decodeIfPresent(Bool.self, forKey: .mlpBias)
        // Step3p7TextConfig takes the members that are objects, whatever else rope_parameters holds (a flat
        // rope_type beside them); a member object that is no rotation is an error there too.
        if let section = try? c.nestedContainer(keyedBy: ExpertKeys.AnyKey.self, forKey: .ropeParameters) {
            var entries: [String: LayerRope] = [:]
            for key in section.allKeys where (try? section.nestedContainer(keyedBy: ExpertKeys.AnyKey.self, forKey: key)) != nil {
                entries[key.stringValue] = try section.decode(LayerRope.self, forKey: key)
            }
            ropeByType = entries
        }
        ropeScaling = try c.contains(.ropeScaling) && !c.decodeNil(forKey: .ropeScaling)
        thetas = try? c.decodeIfPresent([Double].self, forKey: .ropeTheta)
        theta = thetas == nil ? try c.decodeIfPresent(Double.self, forKey: .ropeTheta) : nil
        partialFactors = try c.decodeIfPresent([Double].self, forKey: .partialFactors)
    }

    /// Step3p7RotaryEmbedding's default rotation for a layer type: from rope_parameters when it has an entry for
    /// every type (`byType`), else (as Step3p7TextConfig builds it) rope_theta and partial_rotary_factors at the
    /// type's first layer, theta 10000 and the whole head when they are absent. A list too short to have that
    /// layer is an IndexError in transformers, so it is refused rather than read as absent.
    func rope(for type: String, first: Int, headDim: Int, byType: Bool) throws(MoESlimError) -> RopeSpec {
        if ropeScaling {
            throw MoESlimError(.unsupportedModel, "rope_scaling is set; the forward pass runs Step's default rotation only")
        }
        var theta = self.theta ?? 10000, partial: Double?
        func entry(_ list: [Double], _ key: String) throws(MoESlimError) -> Double {
            guard first < list.count else {
                throw MoESlimError(.invalidConfig, "\(key) has no entry for layer \(first), the first \(type) layer (it has \(list.count)); transformers reads one")
            }
            return list[first]
        }
        if !byType {
            if let thetas { theta = try entry(thetas, "rope_theta") }
            // An empty partial_rotary_factors is falsy in Step3p7TextConfig: the whole head rotates.
            if let partialFactors, !partialFactors.isEmpty { partial = try entry(partialFactors, "partial_rotary_factors") }
        }
        if byType, let own = ropeByType?.first(where: { $0.key.sameBytes(as: type) })?.value {
            if let kind = own.ropeType, !kind.sameBytes(as: "default") {
                throw MoESlimError(.unsupportedModel, "rope_parameters.\(type).rope_type is \(JSONValue.quote(kind)); the forward pass runs Step's default rotation only")
            }
            theta = own.ropeTheta ?? 10000
            partial = own.partialRotaryFactor
        }
        let fraction = partial ?? 1
        guard theta.isFinite, theta > 0, fraction > 0, fraction <= 1 else {
            throw MoESlimError(.invalidConfig, "the \(type) layers rotate with theta \(theta) over a fraction \(fraction) of each head; theta must be positive and the fraction in (0, 1]")
        }
        let dim = Int(Double(headDim) * fraction)
        // transformers takes ceil(dim / 2) frequencies at exponents 2i / dim and so rotates dim + 1 dimensions of an
        // odd width: refused rather than rotated otherwise.
        guard dim % 2 == 0 else {
            throw MoESlimError(.unsupportedModel, "the \(type) layers rotate \(dim) of each head's \(headDim) dimensions (head_dim times the partial rotary factor); the forward pass rotates an even number only")
        }
        let half = dim / 2
        let frequencies = (0..<half).map { i in 1 / Float(pow(Float(theta), Float(2 * i) / Float(dim))) }
        return RopeSpec(inverseFrequencies: frequencies, attentionFactor: 1, layout: .halves)
    }

    /// A per-layer SwiGLU bound list: null or 0 means no clamp (Step3p7Experts, Step3p7MLP). transformers indexes
    /// a non-empty list at every layer below `read`, so a shorter one is refused (an IndexError there).
    static func limits(_ list: [Double?]?, _ key: String, layers: Int, read: Int) throws(MoESlimError) -> [Int: Float] {
        if let list, !list.isEmpty, list.count < read {
            throw MoESlimError(.invalidConfig, "\(key) has \(list.count) entries; transformers reads one for each of the first \(read) layers")
        }
        var out: [Int: Float] = [:]
        for (layer, value) in (list ?? []).prefix(layers).enumerated() {
            guard let value, value != 0 else { continue }
            guard value.isFinite, value > 0 else {
                throw MoESlimError(.invalidConfig, "\(key)[\(layer)] is \(value); a SwiGLU bound must be positive")
            }
            out[layer] = Float(value)
        }
        return out
    }
}
