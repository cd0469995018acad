import ArgumentParser
import MoESlimSupport
import MoESlimFormats
import MoESlimSlimming

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a checkpoint's family, layers, experts, top-k, tensors and bytes per dtype.")

    @Argument(help: "A .safetensors file, a model folder or a .gguf file (any part of a split GGUF).")
    var model: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        try failing {
            if model.hasByteSuffix(".gguf") {
                let summary = try GGUFSummary(GGUFModel(path: model))
                print(json ? summary.json.serialized() : summary.text)
                return
            }
            let checkpoint = try Checkpoint(path: model)
            let summary = try ModelSummary(checkpoint)
            print(json ? summary.json.serialized() : summary.text)
        }
    }
}
