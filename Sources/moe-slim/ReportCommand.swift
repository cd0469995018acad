import ArgumentParser
import MoESlimFormats
import MoESlimSlimming

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Parameters, bytes and FLOPs per token for each component (Kaplan et al. 2020 extended to MoE).")

    @Argument(help: "A .safetensors file or a model folder.")
    var model: String

    @Option(help: "A second model to compare with (for example the pruned one).")
    var compare: String?

    @Option(help: "Context length n_ctx for the attention-mask FLOPs.")
    var context: Int = 4096

    @Option(name: .customLong("top-k"), help: "Experts per token to assume instead of the config's.")
    var topK: Int?

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func validate() throws {
        guard context > 0 else { throw ValidationError("--context must be positive") }
        if let topK, topK <= 0 { throw ValidationError("--top-k must be positive") }
    }

    func run() throws {
        try failing {
            let base = try SizeReport(Checkpoint(path: model), context: context, topK: topK)
            let other = try compare.map { try SizeReport(Checkpoint(path: $0), context: context, topK: topK) }
            if json {
                print(SizeReport.json(base, compared: other).serialized())
            } else {
                print(SizeReport.table(base, compared: other))
            }
        }
    }
}
