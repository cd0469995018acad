import MoESlimSupport

/// Gemma 4's text model (`gemma4_text`) with enable_moe_block: every decoder layer runs its dense MLP and, beside
/// it, a routed MoE block whose modules sit directly in the layer (router.proj, router.scale,
/// router.per_expert_scale, experts.gate_up_proj [E, 2I, H], experts.down_proj [E, H, I]), the two outputs added.
/// The router normalises its input (RMS norm, `scale`), scores with a softmax, renormalises the top-k and
/// multiplies each chosen weight by its expert's per_expert_scale. Described only: the forward pass lacks Gemma 4's
/// attention (q/k norms and a weightless v norm, attention scaling 1, global layers with their own head_dim and
/// key-value heads and keys reused as values, proportional partial RoPE), its sandwich norms and this router.
struct Gemma4TextFamily: ModelFamily {
    static let modelTypes = ["gemma4_text"]

    /// The MoE block is the layer itself; its dense MLP (mlp.) always runs beside the experts and is described as
    /// their shared expert.
    static let names = TensorNames([
        .moeBlock: "", .router: "router.proj.weight", .sharedExperts: "mlp.",
    ])
    static let configBounds = ConfigBounds(expertKeys: ["top_k_experts"])

    struct Config: Decodable {
        var dims: TransformerDims
        var enableMoeBlock: Bool?
        var numExperts: Int?
        var topKExperts: Int?

        enum CodingKeys: String, CodingKey {
            case enableMoeBlock = "enable_moe_block"
            case numExperts = "num_experts"
            case topKExperts = "top_k_experts"
        }

        init(from decoder: Decoder) throws {
            dims = try TransformerDims(from: decoder)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            enableMoeBlock = try c.decodeIfPresent(Bool.self, forKey: .enableMoeBlock)
            numExperts = try c.decodeIfPresent(Int.self, forKey: .numExperts)
            topKExperts = try c.decodeIfPresent(Int.self, forKey: .topKExperts)
        }
    }

    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout { try layout(c, names: names) }

    /// Gemma4TextDecoderLayer builds the MoE block on every layer when enable_moe_block is true (its default is
    /// false: a dense Gemma 4 has no experts). The embeddings are tied unless tie_word_embeddings says otherwise.
    static func layout(_ c: Config, names: TensorNames) throws(MoESlimError) -> FamilyLayout {
        guard c.enableMoeBlock == true else {
            throw MoESlimError(.invalidConfig, "enable_moe_block is \(c.enableMoeBlock.map(String.init) ?? "missing"); a dense Gemma 4 has no experts to prune")
        }
        guard let count = c.numExperts else {
            throw MoESlimError(.invalidConfig, "num_experts is missing; enable_moe_block needs it")
        }
        guard let topK = c.topKExperts else {
            throw MoESlimError(.invalidConfig, "top_k_experts is missing; enable_moe_block needs it")
        }
        var layout = FamilyLayout(
            dims: c.dims, experts: ExpertKeys(count: count, countKey: "num_experts", topK: topK, topKKey: "top_k_experts"),
            tiedByDefault: true, routing: .softmax(normalize: true), moeLayers: c.dims.allLayers, names: names,
            router: [(names[.router], 0, true), ("router.per_expert_scale", 0, true)])
        // Each layer's layer_scalar is a persistent buffer, saved beside the parameters but not counted by transformers.
        layout.buffers = ["layer_scalar"]
        return layout
    }

    /// transformers 5.25 has no conversion mapping for Gemma 4: adapters are trained on the names stored on disk.
    static let adapterNames = AdapterNameMap.identity
}
