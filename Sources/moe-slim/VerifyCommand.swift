import ArgumentParser
import MoESlimSlimming

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every shard, the index and config.json against the rules of formats/safetensors.md.",
        discussion: """
            Reports every problem, one per line on stderr, and exits 0 only when all rules hold. Warnings (an \
            index whose metadata.total_size disagrees with the shards) are printed but do not fail; notes say which \
            checks were skipped and which shards are links to files outside the model folder (the Hugging Face \
            cache's blobs). With --scan it also reads the data and counts NaN and Inf values in each F16, BF16, F32 \
            and F64 tensor.
            """)

    @Argument(help: "A .safetensors file or a model folder.")
    var model: String

    @Flag(help: "Read the tensor data and report NaN/Inf per float tensor.")
    var scan = false

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let report = Verifier.check(model, scan: scan)
        print(json ? report.json.serialized() : report.text)
        for warning in report.warnings { printError("moe-slim: warning: \(shown(warning))") }
        for problem in report.problems { printError("moe-slim: error: \(shown(problem))") }
        if let first = report.problems.first { throw ExitCode(first.code.exitCode) }
    }
}
