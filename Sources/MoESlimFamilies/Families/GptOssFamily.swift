import MoESlimSupport

/// GPT-OSS: fused expert tensors (gate_up_proj interleaved, down_proj, their biases, or MXFP4 _blocks/_scales),
/// a router with a bias, top-k on the logits then softmax over the chosen, alternating sliding-window attention.
struct GptOssFamily: EngineFamily {
    static let modelTypes = ["gpt_oss"]

    static let names = TensorNames([.router: "router.weight", .routerBias: "router.bias"])

    struct Config: Decodable, EngineConfigured {
        var dims: TransformerDims
        var experts: ExpertKeys
        var engine: EngineDims
        var swigluAlpha: Double?
        var swigluLimit: Double?

        enum CodingKeys: String, CodingKey {
            case swigluAlpha = "swiglu_alpha"
            case swigluLimit = "swiglu_limit"
        }

        init(from decoder: Decoder) throws {
            dims = try TransformerDims(from: decoder)
            experts = try ExpertKeys(from: decoder)
            engine = try EngineDims(from: decoder)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            swigluAlpha = try c.decodeIfPresent(Double.self, forKey: .swigluAlpha)
            swigluLimit = try c.decodeIfPresent(Double.self, forKey: .swigluLimit)
        }
    }

    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout {
        FamilyLayout(
            dims: c.dims, experts: c.experts,
            routing: RoutingRule(scoring: .softmaxAfterTopK, normalizeTopK: true, groups: nil, topkGroups: nil, scalingFactor: 1),
            moeLayers: c.dims.allLayers, names: names,
            router: [(names[.router], 0, true), (names[.routerBias], 0, false)])
    }

    /// Stored fused as at training time (gate and up interleaved in one tensor), laid out (experts, in, out).
    static let adapterNames = AdapterNameMap(transposedExperts: true)
}

extension GptOssFamily {
    /// The activation is gpt_oss's own clamped SwiGLU whatever hidden_act says, so hidden_act is not checked.
    static func engineSpec(_ c: Config) throws(MoESlimError) -> EngineSpec {
        let (attention, rope) = try c.engine.groupedAttention(windows: c.engine.windowsFromLayerTypes { $0 % 2 == 0 })
        var spec = EngineSpec(
            normEps: c.engine.eps, rope: rope, attention: attention, names: names,
            experts: .clampedSwiGLU(
                gateUp: names[.fusedGateUp], gateUpBias: names[.fusedGateUpBias], down: names[.fusedDown],
                downBias: names[.fusedDownBias],
                alpha: Float(c.swigluAlpha ?? 1.702), limit: Float(c.swigluLimit ?? 7)))
        spec.intermediate = c.engine.expertsOfIntermediateSize
        return spec
    }
}
