/// PhiMoE: Mixtral's tensor layout with LayerNorm (weight and bias) and the sparsemixer router.
struct PhimoeFamily: ModelFamily {
    static let modelTypes = ["phimoe"]

    struct Config: Decodable {
        var dims: TransformerDims
        var experts: ExpertKeys

        init(from decoder: Decoder) throws {
            dims = try TransformerDims(from: decoder)
            experts = try ExpertKeys(from: decoder)
        }
    }

    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        FamilyLayout(
            dims: c.dims, experts: c.experts, routing: .softmax(normalize: false), moeLayers: c.dims.allLayers,
            moePrefix: { "model.layers.\($0).block_sparse_moe." }, router: [("gate.weight", 0, true)])
    }
}
