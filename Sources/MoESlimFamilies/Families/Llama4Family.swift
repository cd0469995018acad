import MoESlimSupport

/// Llama 4 as Meta's checkpoints ship it (Scout, Maverick): the multimodal wrapper around a llama4_text language
/// model. config.json nests the language model's keys in text_config; Llama4ForConditionalGeneration keeps it
/// under language_model. (language_model.model.layers., language_model.lm_head) beside vision_model. and
/// multi_modal_projector., which are copied untouched.
struct Llama4Family: EngineFamily {
    static let modelTypes = ["llama4"]

    static let names = TensorNames(
        [
            .tokenEmbedding: "language_model.model.embed_tokens.weight", .finalNorm: "language_model.model.norm",
            .lmHead: "language_model.lm_head.weight",
            .moeBlock: "feed_forward.", .denseMLP: "feed_forward.", .router: "router.weight",
            .sharedExperts: "shared_expert.",
        ],
        layersPrefix: "language_model.model.layers.")
    static let configBounds = Llama4TextFamily.configBounds
    static let configSection: String? = "text_config"

    typealias Config = Llama4TextFamily.Config

    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout { Llama4TextFamily.layout(c, names: names) }

    /// As llama4_text's: the fused experts are stored as at training time.
    static let adapterNames = Llama4TextFamily.adapterNames

    static func engineSpec(_ c: Config) throws(MoESlimError) -> EngineSpec { try Llama4TextFamily.engineSpec(c, names: names) }
}
