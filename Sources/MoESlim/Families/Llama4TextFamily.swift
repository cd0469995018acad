/// Llama 4 (text): fused experts under feed_forward, one shared expert, sigmoid of the top-1 logit, MoE every
/// interleave_moe_layer_step layers (or the explicit moe_layers list).
struct Llama4TextFamily: ModelFamily {
    static let modelTypes = ["llama4_text"]

    struct Config: Decodable {
        var dims: TransformerDims
        var experts: ExpertKeys
        var moeLayers: [Int]?
        var interleaveMoeLayerStep: Int?

        enum CodingKeys: String, CodingKey {
            case moeLayers = "moe_layers"
            case interleaveMoeLayerStep = "interleave_moe_layer_step"
        }

        init(from decoder: Decoder) throws {
            dims = try TransformerDims(from: decoder)
            experts = try ExpertKeys(from: decoder)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            moeLayers = try c.decodeIfPresent([Int].self, forKey: .moeLayers)
            interleaveMoeLayerStep = try c.decodeIfPresent(Int.self, forKey: .interleaveMoeLayerStep)
        }
    }

    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        let step = max(c.interleaveMoeLayerStep ?? 1, 1)
        let layers = c.moeLayers ?? Array(stride(from: step - 1, to: c.dims.numHiddenLayers, by: step))
        var layout = FamilyLayout(
            dims: c.dims, experts: c.experts,
            routing: RoutingRule(scoring: .sigmoid, normalizeTopK: false, groups: nil, topkGroups: nil, scalingFactor: 1),
            moeLayers: layers, moePrefix: { "model.layers.\($0).feed_forward." }, router: [("router.weight", 0, true)])
        layout.sharedPaths = ["shared_expert."]
        return layout
    }
}
