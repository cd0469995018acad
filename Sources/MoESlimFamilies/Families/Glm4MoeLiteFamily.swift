import MoESlimSupport

/// GLM-4.7-Flash (`glm4_moe_lite`): DeepSeek-V3's multi-head latent attention and tensor names with GLM-4.5's
/// router (sigmoid, correction bias, groups); which layers are MoE is `mlp_layer_types`, by default every layer
/// but the first.
struct Glm4MoeLiteFamily: EngineFamily {
    static let modelTypes = ["glm4_moe_lite"]

    static let names = DeepseekFamily.names
    static let configBounds = DeepseekFamily.configBounds

    struct Config: Decodable, EngineConfigured {
        var mla: DeepseekFamily.Config
        var mlpLayers: MLPLayerTypes

        var engine: EngineDims {
            get { mla.engine }
            set { mla.engine = newValue }
        }

        init(from decoder: Decoder) throws {
            mla = try DeepseekFamily.Config(from: decoder)
            mlpLayers = try MLPLayerTypes(from: decoder)
        }
    }

    /// As Glm4MoeLiteConfig: n_group and topk_group 1, norm_topk_prob true, routed_scaling_factor 1.8; it reads
    /// no first_k_dense_replace (its default mlp_layer_types makes layer 0 dense).
    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        try DeepseekFamily.sigmoidGroupedLayout(
            c.mla, moeLayers: try c.mlpLayers.moeLayers(layers: c.mla.dims.numHiddenLayers, firstDense: 1),
            defaults: .init(groups: 1, topkGroups: 1, scaling: 1.8))
    }

    static let adapterNames = DeepseekFamily.adapterNames
}

extension Glm4MoeLiteFamily {
    static func engineSpec(_ c: Config) throws(MoESlimError) -> EngineSpec {
        try DeepseekFamily.engineSpec(c.mla)
    }
}

/// `mlp_layer_types` ("dense" or "sparse" per layer), which the newer DeepSeek-style configs state instead of
/// first_k_dense_replace; transformers builds the default from the first dense layers.
struct MLPLayerTypes: Decodable {
    var types: [String]?

    enum CodingKeys: String, CodingKey {
        case types = "mlp_layer_types"
    }

    init(from decoder: Decoder) throws {
        types = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent([String].self, forKey: .types)
    }

    /// The MoE layers: those marked "sparse", or all but the first `firstDense` when the list is absent.
    func moeLayers(layers: Int, firstDense: Int) throws(MoESlimError) -> [Int] {
        guard let types else { return Array(min(max(firstDense, 0), layers)..<layers) }
        guard types.count == layers else {
            throw MoESlimError(.invalidConfig, "mlp_layer_types lists \(types.count) layers; num_hidden_layers is \(layers)")
        }
        var sparse: [Int] = []
        for (layer, type) in types.enumerated() {
            if type.sameBytes(as: "sparse") {
                sparse.append(layer)
            } else if !type.sameBytes(as: "dense") {
                throw MoESlimError(.invalidConfig, "mlp_layer_types[\(layer)] is \(JSONValue.quote(type)); it must be 'dense' or 'sparse'")
            }
        }
        return sparse
    }
}
