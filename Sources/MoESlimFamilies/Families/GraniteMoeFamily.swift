import MoESlimSupport

/// GraniteMoE: fused input_linear (gate and up) and output_linear, router under router.layer, top-k on the
/// logits then softmax over the chosen.
struct GraniteMoeFamily: EngineFamily {
    static let modelTypes = ["granitemoe"]

    static let names = TensorNames([
        .moeBlock: "block_sparse_moe.", .router: "router.layer.weight", .fusedGateUp: "input_linear.weight",
        .fusedDown: "output_linear.weight",
    ])

    struct Config: Decodable, EngineConfigured {
        var dims: TransformerDims
        var experts: ExpertKeys
        var engine: EngineDims
        var embeddingMultiplier: Double?
        var residualMultiplier: Double?
        var attentionMultiplier: Double?
        var logitsScaling: Double?

        enum CodingKeys: String, CodingKey {
            case embeddingMultiplier = "embedding_multiplier"
            case residualMultiplier = "residual_multiplier"
            case attentionMultiplier = "attention_multiplier"
            case logitsScaling = "logits_scaling"
        }

        init(from decoder: Decoder) throws {
            dims = try TransformerDims(from: decoder)
            experts = try ExpertKeys(from: decoder)
            engine = try EngineDims(from: decoder)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            embeddingMultiplier = try c.decodeIfPresent(Double.self, forKey: .embeddingMultiplier)
            residualMultiplier = try c.decodeIfPresent(Double.self, forKey: .residualMultiplier)
            attentionMultiplier = try c.decodeIfPresent(Double.self, forKey: .attentionMultiplier)
            logitsScaling = try c.decodeIfPresent(Double.self, forKey: .logitsScaling)
        }
    }

    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        var layout = FamilyLayout(
            dims: c.dims, experts: c.experts,
            routing: RoutingRule(scoring: .softmaxAfterTopK, normalizeTopK: true, groups: nil, topkGroups: nil, scalingFactor: 1),
            moeLayers: c.dims.allLayers, names: names)
        layout.fusedExpertNames = ["input_linear.", "output_linear."]
        return layout
    }

    /// transformers 5 names input_linear and output_linear as the experts' gate_up_proj and down_proj (same
    /// layout) and the router's `router.layer` as `router`.
    static let adapterNames = AdapterNameMap(renames: [
        (".block_sparse_moe.experts.gate_up_proj", ".block_sparse_moe.input_linear.weight"),
        (".block_sparse_moe.experts.down_proj", ".block_sparse_moe.output_linear.weight"),
        (".block_sparse_moe.router.weight", ".block_sparse_moe.router.layer.weight"),
    ])
}

extension GraniteMoeFamily {
    static func engineSpec(_ c: Config) throws(MoESlimError) -> EngineSpec {
        try c.engine.requireSiLU()
        let (attention, rope) = try c.engine.groupedAttention(scaling: Float(c.attentionMultiplier ?? 1))
        var spec = EngineSpec(
            normEps: c.engine.eps, rope: rope, attention: attention, names: names,
            experts: .fusedGateUp(gateUp: names[.fusedGateUp], down: names[.fusedDown]))
        spec.intermediate = c.engine.expertsOfIntermediateSize
        spec.embeddingMultiplier = Float(c.embeddingMultiplier ?? 1)
        spec.residualMultiplier = Float(c.residualMultiplier ?? 1)
        spec.logitsDivisor = Float(c.logitsScaling ?? 1)
        return spec
    }
}
