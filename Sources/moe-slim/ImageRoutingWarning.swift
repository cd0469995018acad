import MoESlimFamilies
import MoESlimSupport

/// A vision-language wrapper (its language model's keys in a config section such as text_config) runs here on
/// text only, but its image tokens route through the same experts: counts and scores from text alone can rank
/// low an expert that serves images. Said once, before the run.
enum ImageRoutingWarning {
    static func warn(_ model: ModelDescription) {
        guard model.configSection != nil else { return }
        printError("moe-slim: warning: \(model.modelType) is a vision-language model; image tokens also route through these experts, so counts from text alone can drop experts that serve images")
    }
}
