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
/// Described only: the forward pass lacks Step's attention (a head count of its own on the sliding-window layers,
/// a per-head sigmoid gate from g_proj, rotary theta and partial factor per layer type), the experts stacked per
/// projection and the clamped SwiGLU of swiglu_limits.
struct Step3p7Family: ModelFamily {
    static let modelTypes = ["step3p7"]

    /// The MoE block is the layer itself: the router and experts are under moe., the shared expert beside them.
    static let names = TensorNames([
        .moeBlock: "", .router: "moe.gate.weight", .routerCorrectionBias: "moe.router_bias", .sharedExperts: "share_expert.",
    ])
    /// The expert stacks, each with the expert on axis 0 (quantization scales stored beside them included).
    static let fusedExperts = ["moe.gate_proj.", "moe.up_proj.", "moe.down_proj."]
    static let configBounds = ConfigBounds(
        dimensionKeys: ["share_expert_dim", "num_attention_groups", "num_nextn_predict_layers", "num_sliding_attention_heads"],
        perLayerNumberKeys: ["rope_theta"])
    static let configSection: String? = "text_config"

    struct Config: Decodable {
        /// The expert-count and top-k spellings Step3p7TextConfig reads (its attribute_map), native first.
        static let countKeys = ["n_routed_experts", "moe_num_experts", "num_local_experts"]
        static let topKKeys = ["num_experts_per_tok", "moe_top_k"]

        var dims: TransformerDims
        var experts: ExpertKeys
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
}
