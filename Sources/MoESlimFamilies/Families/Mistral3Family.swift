import MoESlimSupport

/// Mistral Small 4 as released: Mistral 3's multimodal wrapper (`mistral3`) around a mistral4 language model.
/// config.json nests the language model's keys in text_config; the tensors are stored as transformers 5 writes
/// them (its llava mapping): the decoder under language_model.model.layers., the head at language_model.lm_head;
/// vision_tower. and multi_modal_projector. are copied untouched. A mistral3 around a dense Mistral text model has
/// no experts and is refused.
struct Mistral3Family: EngineFamily {
    static let modelTypes = ["mistral3"]

    static let names = TensorNames(
        [
            .tokenEmbedding: "language_model.model.embed_tokens.weight", .finalNorm: "language_model.model.norm",
            .lmHead: "language_model.lm_head.weight", .sharedExperts: "shared_experts.",
        ],
        layersPrefix: "language_model.model.layers.")
    static let configBounds = Mistral4Family.configBounds
    static let configSection: String? = "text_config"

    /// The text model type is read first, so that a dense Mistral 3 is refused by name rather than for a
    /// missing latent-attention key.
    struct Config: Decodable, EngineConfigured {
        var text: Mistral4Family.Config

        var engine: EngineDims {
            get { text.engine }
            set { text.engine = newValue }
        }

        enum CodingKeys: String, CodingKey {
            case modelType = "model_type"
        }

        init(from decoder: Decoder) throws {
            let type = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(String.self, forKey: .modelType)
            guard let type, type.sameBytes(as: "mistral4") else {
                throw DecodingError.dataCorrupted(.init(
                    codingPath: [], debugDescription: "text_config.model_type is \(type.map(JSONValue.quote) ?? "missing (Mistral3Config's default is 'mistral')"); only a mistral4 language model has experts"))
            }
            text = try Mistral4Family.Config(from: decoder)
        }
    }

    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout { try Mistral4Family.layout(c.text, names: names) }

    /// At training time transformers 5 holds the wrapper's modules under model. (model.language_model.,
    /// model.vision_tower., model.multi_modal_projector.) and the head as lm_head; its llava mapping stores them as
    /// on disk here. The experts are fused at training time and on disk (no mapping for mistral4).
    static let adapterNames = AdapterNameMap(
        renames: [
            ("model.language_model.", "language_model.model."), ("model.vision_tower.", "vision_tower."),
            ("model.multi_modal_projector.", "multi_modal_projector."), ("lm_head.", "language_model.lm_head."),
        ],
        fusedExperts: Mistral4Family.adapterNames.fusedExperts)

    static func engineSpec(_ c: Config) throws(MoESlimError) -> EngineSpec { try Mistral4Family.engineSpec(c.text, names: names) }
}
