/// GraniteMoE: fused input_linear (gate and up) and output_linear, router under router.layer, top-k on the
/// logits then softmax over the chosen.
struct GraniteMoeFamily: ModelFamily {
    static let modelTypes = ["granitemoe"]

    struct Config: Decodable {
        var dims: TransformerDims
        var experts: ExpertKeys

        init(from decoder: Decoder) throws {
            dims = try TransformerDims(from: decoder)
            experts = try ExpertKeys(from: decoder)
        }
    }

    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        var layout = FamilyLayout(
            dims: c.dims, experts: c.experts,
            routing: RoutingRule(scoring: .softmaxAfterTopK, normalizeTopK: true, groups: nil, topkGroups: nil, scalingFactor: 1),
            moeLayers: c.dims.allLayers, moePrefix: { "model.layers.\($0).block_sparse_moe." },
            router: [("router.layer.weight", 0, true)])
        layout.fusedExpertNames = ["input_linear.", "output_linear."]
        return layout
    }
}
