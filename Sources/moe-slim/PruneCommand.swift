import ArgumentParser
import Foundation
import MoESlimFormats
import MoESlimFamilies
import MoESlimSlimming

struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove the least-used experts and slice each router to the experts it keeps.",
        discussion: """
            Choose experts from a counts file written by calibrate (--counts with --keep or --sparsity), or \
            give the kept experts explicitly (--plan). The output has the input's shape (file or folder) and \
            loads in Hugging Face transformers unchanged.
            """)

    @Argument(help: "Input: a .safetensors file or a model folder.")
    var input: String

    @Argument(help: "Output: a .safetensors file or a folder (same shape as the input).")
    var output: String?

    @Option(help: "Counts file written by calibrate.")
    var counts: String?

    @Option(help: "Experts to keep in every MoE layer.")
    var keep: Int?

    @Option(help: "Fraction of experts to remove, 0 < S < 1.")
    var sparsity: Double?

    @Option(help: ArgumentHelp("Ranking: \(ExpertSelection.Criterion.explained).", valueName: "criterion"))
    var criterion = ExpertSelection.Criterion(.hard)

    @Option(help: "layer: the best N of every layer; global: one ranking over all layers (non-uniform).")
    var strategy: ExpertSelection.Strategy = .layer

    @Option(help: "Explicit plan: {\"layers\": {\"<layer>\": [kept expert ids]}}.")
    var plan: String?

    @Option(help: "Write the chosen plan here, to review or repeat the run.")
    var planOut: String?

    @Option(name: .customLong("top-k"), help: "New experts per token to write into the config.")
    var topK: Int?

    @Flag(help: "Print the plan and the size report before and after; write nothing.")
    var dryRun = false

    @Option(help: "Context length for the FLOPs in the report.")
    var context: Int = 4096

    @OptionGroup var outputOptions: OutputOptions

    func validate() throws {
        if plan != nil && (counts != nil || keep != nil || sparsity != nil) {
            throw ValidationError("--plan cannot be combined with --counts, --keep or --sparsity")
        }
        if plan == nil {
            guard counts != nil else { throw ValidationError("give --counts (with --keep or --sparsity) or --plan") }
            guard (keep == nil) != (sparsity == nil) else { throw ValidationError("give exactly one of --keep and --sparsity") }
        }
        if let sparsity, !(sparsity > 0 && sparsity < 1) { throw ValidationError("--sparsity must be between 0 and 1") }
        if let keep, keep < 1 { throw ValidationError("--keep must be at least 1") }
        if let topK, topK < 1 { throw ValidationError("--top-k must be at least 1") }
        if output == nil && !dryRun { throw ValidationError("give an output path, or --dry-run") }
    }

    func run() throws {
        try failing {
            let checkpoint = try Checkpoint(path: input)
            try OutputTarget.check(outputs(checkpoint), inputs: checkpoint.inputPaths + [counts, plan].compactMap { $0 }, force: outputOptions.force)
            let model = try ModelFamilies.describe(checkpoint)
            let chosen: PruningPlan
            if let plan {
                chosen = try PruningPlan.load(plan, for: model, topK: topK)
            } else {
                let selection = ExpertSelection(
                    criterion: criterion,
                    strategy: strategy,
                    amount: keep.map { .keep($0) } ?? .sparsity(sparsity!), topK: topK)
                chosen = try selection.plan(model: model, counts: ExpertCounts.load(counts!, for: model), countsPath: counts!)
            }
            let transform = try PruneTransform(checkpoint: checkpoint, model: model, plan: chosen)
            if let planOut {
                try AtomicFile.write(chosen.json.serialized() + "\n", to: planOut)
            }
            if dryRun {
                print(PlanText.describe(chosen, model: model))
                let before = SizeReport(model: model, tensors: checkpoint.names.compactMap { n in checkpoint.info(n).map { (n, $0.dtype, $0.shape) } }, path: input, context: context)
                let after = SizeReport(model: transform.prunedDescription(model), tensors: transform.tensorShapes, path: output ?? "(pruned)", context: context)
                print(SizeReport.table(before, compared: after))
                return
            }
            let skipped = try PruneWriter(input: checkpoint, transform: transform, destination: output!, sharding: outputOptions.sharding, force: outputOptions.force).write()
            if !skipped.isEmpty {
                printError("moe-slim: note: not copied, they hold the unpruned weights in another format: \(skipped.joined(separator: ", "))")
            }
            if !transform.uniform {
                printError("moe-slim: warning: this plan keeps a different number of experts per layer, which stock transformers cannot load; the counts are in config.json moe_slim.experts_per_layer. Use --strategy layer (or a plan with equal counts) for a uniform model.")
            }
            let after = try SizeReport(Checkpoint(path: output!), context: context)
            let before = try SizeReport(checkpoint, context: context)
            print(PlanText.describe(chosen, model: model))
            print(SizeReport.table(before, compared: after))
        }
    }

    /// The checkpoint (unless --dry-run) and --plan-out, checked together before anything is computed.
    private func outputs(_ checkpoint: Checkpoint) -> [OutputTarget] {
        var targets: [OutputTarget] = []
        if let output, !dryRun {
            targets.append(OutputTarget(output, option: "the output", kind: .checkpoint(companionsFrom: checkpoint.isFolder ? checkpoint.folder : nil)))
        }
        if let planOut { targets.append(OutputTarget(planOut, option: "--plan-out", kind: .file)) }
        return targets
    }
}
