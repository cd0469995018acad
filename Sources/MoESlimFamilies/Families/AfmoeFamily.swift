import MoESlimSupport

/// Arcee AFMoE (`afmoe`, Trinity): per-expert SwiGLU under mlp with shared experts, a sigmoid router at
/// `router.gate` whose choice is shifted by `expert_bias` (a parameter, not a buffer), top-k always renormalised
/// and scaled by route_scale; the first num_dense_layers layers are dense. Described, not run: its gated
/// attention and the norms around the MLP are not in the forward pass.
struct AfmoeFamily: ModelFamily {
    static let modelTypes = ["afmoe"]

    static let names = TensorNames([
        .router: "router.gate.weight", .routerCorrectionBias: "expert_bias", .sharedExperts: "shared_experts.",
    ])
    static let configBounds = ConfigBounds(
        expertKeys: ["num_shared_experts"], dimensionKeys: ["num_dense_layers"])

    struct Config: Decodable {
        var dims: TransformerDims
        var experts: ExpertKeys
        var numDenseLayers: Int?
        var routeScale: Double?

        enum CodingKeys: String, CodingKey {
            case numDenseLayers = "num_dense_layers"
            case routeScale = "route_scale"
        }

        init(from decoder: Decoder) throws {
            dims = try TransformerDims(from: decoder)
            experts = try ExpertKeys(from: decoder)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            numDenseLayers = try c.decodeIfPresent(Int.self, forKey: .numDenseLayers)
            routeScale = try c.decodeIfPresent(Double.self, forKey: .routeScale)
        }
    }

    /// AfmoeConfig's defaults: one dense layer, route_scale 1.
    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        let first = c.numDenseLayers ?? 1
        return FamilyLayout(
            dims: c.dims, experts: c.experts,
            routing: RoutingRule(scoring: .sigmoid, normalizeTopK: true, groups: nil, topkGroups: nil, scalingFactor: c.routeScale ?? 1),
            moeLayers: c.dims.allLayers.filter { $0 >= first }, names: names,
            router: [(names[.router], 0, true), (names[.routerCorrectionBias], 0, true)])
    }

    /// Experts fused on loading as Qwen2-MoE's; router, bias and shared experts keep their names.
    static let adapterNames = Qwen2MoeFamily.adapterNames
}
