import ArgumentParser
import MoESlimSupport
import MoESlimFormats

@main
struct MoESlimCommand: ParsableCommand {
    static func main() {
        SignalHandlers.install()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
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
            TokenizeCommand.self,
            MergeLoraCommand.self,
            VerifyCommand.self,
        ]
    )
}
