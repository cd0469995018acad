import MoESlimSupport

/// LFM2-MoE (`lfm2_moe`): short-convolution and attention layers; MoE under `feed_forward` with Mixtral-style
/// per-expert w1/w3/w2, a sigmoid router whose choice is shifted by the `expert_bias` buffer (when
/// use_expert_bias), the first num_dense_layers layers dense; the final norm is `model.embedding_norm` and the
/// head is tied. Described, not run: the convolution layers are not in the forward pass.
struct Lfm2MoeFamily: ModelFamily {
    static let modelTypes = ["lfm2_moe"]

    static let names = TensorNames([
        .moeBlock: "feed_forward.", .denseMLP: "feed_forward.", .gate: "w1.weight", .up: "w3.weight", .down: "w2.weight",
        .routerCorrectionBias: "expert_bias", .finalNorm: "model.embedding_norm",
        .attentionNorm: "operator_norm", .mlpNorm: "ffn_norm",
    ])
    static let configBounds = ConfigBounds(dimensionKeys: ["num_dense_layers"])

    struct Config: Decodable {
        var dims: TransformerDims
        var experts: ExpertKeys
        var numDenseLayers: Int?
        var normTopkProb: Bool?
        var useExpertBias: Bool?
        var routedScalingFactor: Double?

        enum CodingKeys: String, CodingKey {
            case numDenseLayers = "num_dense_layers"
            case normTopkProb = "norm_topk_prob"
            case useExpertBias = "use_expert_bias"
            case routedScalingFactor = "routed_scaling_factor"
        }

        init(from decoder: Decoder) throws {
            dims = try TransformerDims(from: decoder)
            experts = try ExpertKeys(from: decoder)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            numDenseLayers = try c.decodeIfPresent(Int.self, forKey: .numDenseLayers)
            normTopkProb = try c.decodeIfPresent(Bool.self, forKey: .normTopkProb)
            useExpertBias = try c.decodeIfPresent(Bool.self, forKey: .useExpertBias)
            routedScalingFactor = try c.decodeIfPresent(Double.self, forKey: .routedScalingFactor)
        }
    }

    /// Lfm2MoeConfig's defaults: two dense layers, top-k renormalised, the expert bias used, scaling 1; the head
    /// is tied unless the config says otherwise.
    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        let first = c.numDenseLayers ?? 2
        let bias = c.useExpertBias ?? true
        var layout = FamilyLayout(
            dims: c.dims, experts: c.experts, tiedByDefault: true,
            routing: RoutingRule(
                scoring: .sigmoid, normalizeTopK: c.normTopkProb ?? true, groups: nil, topkGroups: nil,
                scalingFactor: c.routedScalingFactor ?? 1),
            moeLayers: c.dims.allLayers.filter { $0 >= first }, names: names,
            router: [(names[.router], 0, true), (names[.routerCorrectionBias], 0, bias)])
        layout.buffers = [names[.routerCorrectionBias]]
        return layout
    }

    /// transformers 5 fuses `feed_forward.experts.<e>.w1|w3` into gate_up_proj and w2 into down_proj.
    static let adapterNames = AdapterNameMap(fusedExperts: [
        .init(training: "experts.gate_up_proj", parts: [names[.gate], names[.up]]),
        .init(training: "experts.down_proj", parts: [names[.down]]),
    ])
}
