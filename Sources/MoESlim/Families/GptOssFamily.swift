/// GPT-OSS: fused expert tensors (gate_up_proj interleaved, down_proj, their biases, or MXFP4 _blocks/_scales),
/// a router with a bias, top-k on the logits then softmax over the chosen, alternating sliding-window attention.
struct GptOssFamily: ModelFamily {
    static let modelTypes = ["gpt_oss"]

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
            dims: c.dims, experts: c.experts,
            routing: RoutingRule(scoring: .softmaxAfterTopK, normalizeTopK: true, groups: nil, topkGroups: nil, scalingFactor: 1),
            moeLayers: c.dims.allLayers, moePrefix: { "model.layers.\($0).mlp." },
            router: [("router.weight", 0, true), ("router.bias", 0, false)])
    }
}
