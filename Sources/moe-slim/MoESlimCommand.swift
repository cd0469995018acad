import ArgumentParser
import Foundation
import MoESlimSupport
import MoESlimFormats

@main
struct MoESlimCommand: ParsableCommand {
    static func main() {
        SignalHandlers.install()
        if CompletionScript.printIfRequested(Array(CommandLine.arguments.dropFirst())) { return }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exitInOneStyle(error)
        }
    }

    /// The parser's own usage errors in the style of every other error (`moe-slim: error: …`), its usage
    /// lines kept below; help, version and our own already-printed errors go through unchanged.
    static func exitInOneStyle(_ error: Error) -> Never {
        let code = exitCode(for: error)
        let message = fullMessage(for: error)
        let prefix = "Error: "
        guard code != .success, message.hasPrefix(prefix) else { exit(withError: error) }
        printError("moe-slim: error: " + message.dropFirst(prefix.count))
        Foundation.exit(code.rawValue)
    }

    static let configuration = CommandConfiguration(
        commandName: "moe-slim",
        abstract: "Make Mixture-of-Experts checkpoints smaller and cheaper, offline, on a CPU.",
        discussion: """
            Count how often each expert is routed to (calibrate), remove the least-used experts (prune), fold \
            LoRA adapters back into a checkpoint (merge-lora), and see the size and FLOPs before and after (report).
            """,
        version: MoESlimVersion.string,
        subcommands: [
            InspectCommand.self,
            ReportCommand.self,
            CalibrateCommand.self,
            CountsCommand.self,
            PruneCommand.self,
            EvalCommand.self,
            SweepCommand.self,
            PlanCommand.self,
            TokenizeCommand.self,
            MergeLoraCommand.self,
            VerifyCommand.self,
        ]
    )
}
