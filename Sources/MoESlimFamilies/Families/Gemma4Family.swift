import MoESlimSupport

/// Gemma 4 as released (`gemma4`): the multimodal wrapper around a gemma4_text language model. config.json nests
/// the language model's keys in text_config; its tensors live under model.language_model. (vision and audio
/// towers and their embedders, model.vision_tower., model.embed_vision., model.audio_tower., are copied untouched).
/// The forward pass runs the language model as Gemma4TextFamily says. Image and audio tokens also route through
/// these experts; calibrate and eval run text only and warn so (as for every wrapper with a text_config).
struct Gemma4Family: EngineFamily {
    static let modelTypes = ["gemma4"]

    static let names = TensorNames(
        Gemma4TextFamily.layerRoles.merging([
            .tokenEmbedding: "model.language_model.embed_tokens.weight", .finalNorm: "model.language_model.norm",
        ]) { $1 },
        layersPrefix: "model.language_model.layers.")
    static let configBounds = Gemma4TextFamily.configBounds
    static let configSection: String? = "text_config"

    typealias Config = Gemma4TextFamily.Config

    static func layout(_ c: Config) throws(MoESlimError) -> FamilyLayout { try Gemma4TextFamily.layout(c, names: names) }

    static let adapterNames = Gemma4TextFamily.adapterNames

    static func engineSpec(_ c: Config) throws(MoESlimError) -> EngineSpec { try Gemma4TextFamily.engineSpec(c, names: names) }
}
