import ArgumentParser
import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies
import MoESlimSlimming

extension PruneCommand {
    /// `prune in.gguf out.gguf`: the same choices as for safetensors (a plan, or counts with --keep or
    /// --sparsity), counts from calibrate or from a llama-imatrix GGUF, or AIMER from the expert weights (the
    /// float types and those GGMLBlockSums dequantizes); expert slabs copied block for block, into one file or
    /// the parts GGUFSplit cuts.
    func runGGUF() throws {
        if merge { throw MoESlimError(.invalidArgument, "--merge averages expert weights, which a GGUF's quantized blocks do not allow; prune the safetensors with --merge and convert", path: input) }
        let gguf = try GGUFModel(path: input)
        let split: GGUFSplit = splitMaxTensors == nil && splitMaxSize == nil
            ? .keepInput : .limits(tensors: splitMaxTensors ?? 0, bytes: splitMaxSize?.bytes ?? 0)
        func check(parts: [String]) throws(MoESlimError) {
            let outputs = parts.map { OutputTarget($0, option: "the output", kind: .file) } + (planOut.map { [OutputTarget($0, option: "--plan-out", kind: .file)] } ?? [])
            try OutputTarget.check(outputs, inputs: gguf.parts.map(\.path) + [counts, plan].compactMap { $0 }, force: outputOptions.force)
        }
        // The input's parts are known now; parts cut by size or count are known once the plan is, before writing.
        if dryRun {
            try check(parts: [])
        } else if split == .keepInput {
            try check(parts: GGUFSplit.paths(output!, count: gguf.parts.count))
        }
        let model = try GGUFArchitectures.describe(gguf)
        let chosen: PruningPlan
        if let plan {
            chosen = try PruningPlan.load(plan, for: model, topK: topK)
        } else {
            let loaded = try counts.map { (path) throws(MoESlimError) -> (counts: ExpertCounts, path: String) in
                guard path.hasByteSuffix(".gguf") else { return (try ExpertCounts.load(path, for: model), path) }
                guard criterion.rawValue.sameBytes(as: "hard") else {
                    throw MoESlimError(.invalidArgument, "an imatrix holds hard counts only; use --criterion hard", path: path)
                }
                return (try ImatrixCounts.load(path, for: model), path)
            }
            let selection = ExpertSelection(
                criterion: criterion, strategy: strategy, amount: keep.map { .keep($0) } ?? .sparsity(sparsity!), topK: topK,
                seed: seed, superExperts: superExperts.rule)
            chosen = try selection.plan(model: model, counts: loaded, weights: gguf)
        }
        let writer = try GGUFPruneWriter(input: gguf, model: model, plan: chosen, split: split)
        if split != .keepInput, !dryRun { try check(parts: writer.outputPaths(output!)) }
        if let planOut { try AtomicFile.write(chosen.json.serialized() + "\n", to: planOut) }
        let before = try SizeReport(gguf, model: model, context: context)
        if dryRun {
            print(PlanText.describe(chosen, model: model))
            print(SizeReport.table(before, compared: nil))
            return
        }
        try writer.write(to: output!, force: outputOptions.force)
        let written = try GGUFModel(path: writer.outputPaths(output!)[0])
        let after = try SizeReport(written, model: GGUFArchitectures.describe(written), context: context)
        print(PlanText.describe(chosen, model: model))
        print(SizeReport.table(before, compared: after))
    }
}
