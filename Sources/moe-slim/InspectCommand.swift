import ArgumentParser
import MoESlimFormats
import MoESlimSlimming

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a checkpoint's family, layers, experts, top-k, tensors and bytes per dtype.")

    @Argument(help: "A .safetensors file or a model folder.")
    var model: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        try failing {
            let checkpoint = try Checkpoint(path: model)
            let summary = try ModelSummary(checkpoint)
            print(json ? summary.json.serialized() : summary.text)
        }
    }
}
