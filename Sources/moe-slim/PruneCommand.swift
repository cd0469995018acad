import ArgumentParser
import Foundation
import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies
import MoESlimSlimming

struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove the least-used experts and slice each router to the experts it keeps.",
        discussion: """
            Choose experts from a counts file written by calibrate (--counts with --keep or --sparsity), from \
            the weights alone (--criterion aimer) or at random (--criterion random --seed N, the baseline), or \
            give the kept experts explicitly (--plan). The output has the input's shape (file or folder) and \
            loads in Hugging Face transformers unchanged. A .gguf is pruned slab by slab, its quantized blocks \
            copied untouched; there --criterion aimer reads float, legacy (Q4_0 to Q8_0), K-quant (Q2_K to Q6_K) and MXFP4 expert weights and \
            refuses other types, and a split input (or --split-max-tensors, --split-max-size) gives a split \
            output, OUT.gguf written as OUT-00001-of-<n>.gguf and on.
            """)

    @Argument(help: "Input: a .safetensors file, a model folder or a .gguf file (any part of a split GGUF).")
    var input: String

    @Argument(help: "Output: a .safetensors file or a folder (same shape as the input), or one .gguf file.")
    var output: String?

    @Option(help: "Counts file written by calibrate, or for a GGUF a llama-imatrix .gguf.")
    var counts: String?

    @Option(help: "Experts to keep in every MoE layer.")
    var keep: Int?

    @Option(help: "Fraction of experts to remove, 0 < S < 1.")
    var sparsity: Double?

    @Option(help: ArgumentHelp("Ranking: \(ExpertSelection.Criterion.explained).", valueName: "criterion"))
    var criterion = ExpertSelection.Criterion(.hard)

    @Option(help: "Seed of --criterion random: the same seed gives the same plan.")
    var seed: UInt64 = 0

    @OptionGroup var superExperts: SuperExpertOptions

    @Option(help: "layer: the best N of every layer; global: one ranking over all layers (non-uniform).")
    var strategy: ExpertSelection.Strategy = .layer

    @Option(help: "Explicit plan: {\"layers\": {\"<layer>\": [kept expert ids]}}.")
    var plan: String?

    @Option(help: "Write the chosen plan here, to review or repeat the run.")
    var planOut: String?

    @Option(name: .customLong("top-k"), help: "New experts per token to write into the config.")
    var topK: Int?

    @Flag(help: "Leave out the multi-token-prediction block (mtp.* of Qwen3-Next and Qwen3.5; the layer after the last, model.layers.<num_hidden_layers>.*, of DeepSeek-V3/V3.2 and GLM-4.5+; the num_nextn_predict_layers layers after the last of Step-3.x), whose experts the plan does not cover; its layer count in the config becomes 0. Required to prune a checkpoint that has one.")
    var dropMtp = false

    @Flag(help: "Fold each removed expert into the most similar kept expert of its layer, averaging weights by hard counts from --counts (formats/merge.md), instead of dropping it.")
    var merge = false

    @Option(help: ArgumentHelp("What --merge compares: output (the experts' mean outputs on the calibration tokens, the counts' output_sketch) or router (router weight rows). Default: output when the counts have output_sketch, else router.", valueName: "output|router"))
    var mergeSimilarity: ExpertMerge.Similarity?

    @Option(help: "GGUF output: parts of at most N tensors, <name>-00001-of-<n>.gguf and on, as llama.cpp's --split-max-tensors cuts them (default: the input's parts).")
    var splitMaxTensors: Int?

    @Option(help: ArgumentHelp("GGUF output: parts of at most this many bytes of tensor data, as llama.cpp's --split-max-size (5GB = 5e9 bytes, llama.cpp's 5G; a bare 5G is 5GiB here, as for every size).", valueName: "size"))
    var splitMaxSize: ByteSize?

    @Flag(help: "Print the plan and the size report before and after; write nothing.")
    var dryRun = false

    @Option(help: "Context length for the FLOPs in the report.")
    var context: Int = 4096

    @OptionGroup var outputOptions: OutputOptions

    func validate() throws {
        if plan != nil && (keep != nil || sparsity != nil || (counts != nil && !merge)) {
            throw ValidationError("--plan cannot be combined with --counts, --keep or --sparsity")
        }
        if merge && counts == nil { throw ValidationError("--merge weights experts by their hard counts; give --counts") }
        if mergeSimilarity != nil && !merge { throw ValidationError("--merge-similarity chooses how --merge groups experts; give --merge") }
        if plan == nil {
            guard counts != nil || !criterion.needsCounts else {
                throw ValidationError("give --counts (with --keep or --sparsity), --criterion aimer or random, or --plan")
            }
            guard (keep == nil) != (sparsity == nil) else { throw ValidationError("give exactly one of --keep and --sparsity") }
        }
        if let sparsity, !(sparsity > 0 && sparsity < 1) { throw ValidationError("--sparsity must be between 0 and 1") }
        if let keep, keep < 1 { throw ValidationError("--keep must be at least 1") }
        if let topK, topK < 1 { throw ValidationError("--top-k must be at least 1") }
        if superExperts.rule != nil && (plan != nil || counts == nil) {
            throw ValidationError("--keep-super-experts finds them in --counts; it does not apply to --plan")
        }
        if output == nil && !dryRun { throw ValidationError("give an output path, or --dry-run") }
        if let splitMaxTensors, splitMaxTensors < 1 { throw ValidationError("--split-max-tensors must be at least 1") }
        if let splitMaxSize, splitMaxSize.bytes < 1 { throw ValidationError("--split-max-size must be at least 1 byte") }
        if (splitMaxTensors != nil || splitMaxSize != nil) && !input.hasByteSuffix(".gguf") {
            throw ValidationError("--split-max-tensors and --split-max-size cut a GGUF output; a safetensors output is sharded by --max-shard-size")
        }
    }

    func run() throws {
        try failing {
            if input.hasByteSuffix(".gguf") { return try runGGUF() }
            let checkpoint = try Checkpoint(path: input)
            try OutputTarget.check(outputs(checkpoint), inputs: checkpoint.inputPaths + [counts, plan].compactMap { $0 }, force: outputOptions.force)
            let model = try ModelFamilies.describe(checkpoint)
            guard !model.moeLayers.isEmpty else {
                throw MoESlimError(.invalidConfig, "the config describes no MoE layer (\(model.numLayers) dense layers): there are no experts to prune", path: checkpoint.configPath)
            }
            let loaded = try counts.map { (path) throws(MoESlimError) in (try ExpertCounts.load(path, for: model), path) }
            let chosen: PruningPlan
            if let plan {
                chosen = try PruningPlan.load(plan, for: model, topK: topK)
            } else {
                let selection = ExpertSelection(
                    criterion: criterion,
                    strategy: strategy,
                    amount: keep.map { .keep($0) } ?? .sparsity(sparsity!), topK: topK, seed: seed, superExperts: superExperts.rule)
                if let loaded, let rule = superExperts.rule {
                    let found = try SuperExperts(counts: loaded.0, rule: rule, path: loaded.1)
                    printError("moe-slim: note: kept whatever the criterion says, " + found.lines.joined(separator: "\n"))
                }
                chosen = try selection.plan(model: model, counts: loaded, weights: checkpoint)
            }
            let merging = try loaded.flatMap { (c, path) throws(MoESlimError) in
                merge ? try ExpertMerge(checkpoint: checkpoint, model: model, plan: chosen, counts: c, countsPath: path, similarity: mergeSimilarity) : nil
            }
            if let merging { printError("moe-slim: note: \(merging.similarity.note)") }
            let transform = try PruneTransform(
                checkpoint: checkpoint, model: model, plan: chosen, multiTokenPrediction: dropMtp ? .drop : .refuse, merge: merging)
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
            var writer = PruneWriter(input: checkpoint, transform: transform, destination: output!, sharding: outputOptions.sharding, force: outputOptions.force)
            writer.modelCardNote = ModelCardNote(
                source: FileSystemPath.lastComponent(checkpoint.folder), model: model, plan: chosen,
                how: plan.map { "the explicit plan file `\($0)`" } ?? "criterion `\(criterion.rawValue)`, strategy `\(strategy.rawValue)`",
                counts: loaded?.0, countsPath: counts
            ).text
            let skipped = try writer.write()
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
            let layers = model.moeLayers.map { chosen.keptExperts(layer: $0).count }
            print("wrote \(output!): \(layers.reduce(0, +)) of \(model.moeLayers.reduce(0) { $0 + $1.numExperts }) experts kept in \(layers.count) MoE layers\(checkpoint.isFolder ? "; model card note in README.md" : "")")
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
