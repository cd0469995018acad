import MoESlimSupport

/// Gemma 4 as released (`gemma4`): the multimodal wrapper around a gemma4_text language model. config.json nests
/// the language model's keys in text_config; its tensors live under model.language_model. (vision and audio
/// towers and their embedders, model.vision_tower., model.embed_vision., model.audio_tower., are copied untouched).
/// Described only, for the reasons Gemma4TextFamily gives.
struct Gemma4Family: ModelFamily {
    static let modelTypes = ["gemma4"]

    static let names = TensorNames(
        [
            .tokenEmbedding: "model.language_model.embed_tokens.weight", .finalNorm: "model.language_model.norm",
            .moeBlock: "", .router: "router.proj.weight", .sharedExperts: "mlp.",
        ],
        layersPrefix: "model.language_model.layers.")
    static let configBounds = Gemma4TextFamily.configBounds
    static let configSection: String? = "text_config"

    typealias Config = Gemma4TextFamily.Config

    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout { try Gemma4TextFamily.layout(c, names: names) }

    static let adapterNames = Gemma4TextFamily.adapterNames
}
