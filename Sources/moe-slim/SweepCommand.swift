import ArgumentParser
import Foundation
import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies
import MoESlimEngine
import MoESlimSlimming

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Evaluate several pruning plans without writing checkpoints, and print one table to choose from.",
        discussion: """
            With --counts (or with --criterion aimer or random only, which need none), every combination of \
            --sparsity, --strategy and --criterion becomes a plan (as \
            `prune --counts` would choose it); every --plan FILE (as `prune --plan-out` writes it) adds one more, \
            alongside or instead. Each plan is evaluated with the routers masked to the experts it keeps, which \
            computes exactly what the pruned checkpoint would. The base model runs once per chunk of records and \
            every plan is compared with it: perplexity, KL(base‖plan), top-1 agreement (or accuracy with --task \
            choice), next to the bytes and FLOPs per token that `prune --dry-run` reports. With --group-by, the \
            table is followed by the same metrics per group. --random N adds N random plans per sparsity (--criterion random with seeds \
            0..<N), the baseline a criterion must beat; --merge adds, for every plan chosen from counts, the checkpoint \
            `prune --merge` would write (written to TMPDIR while it is evaluated).
            """)

    static let defaultSparsity = [0.125, 0.25, 0.375, 0.5]

    @Argument(help: "A .safetensors file or a model folder (with config.json).")
    var model: String

    @Option(help: "Counts file written by calibrate; plans are chosen from it by --sparsity, --strategy and --criterion.")
    var counts: String?

    @Option(name: .customLong("plan"), help: ArgumentHelp("A plan file (formats/plan.md) to evaluate as one more row; repeatable.", valueName: "file"))
    var planFiles: [String] = []

    @Option(help: "With --counts: comma-separated fractions of experts to remove, each 0 < S < 1 (default \(defaultSparsity.map { String($0) }.joined(separator: ","))).")
    var sparsity: CommaSeparated<Double>?

    @Option(help: "With --counts: comma-separated strategies: layer, global (default layer).")
    var strategy: CommaSeparated<ExpertSelection.Strategy>?

    @Option(help: ArgumentHelp("With --counts: comma-separated criteria: \(ExpertSelection.Criterion.explained) (default hard).", valueName: "criteria"),
            completion: .list(ExpertSelection.Criterion.allValueStrings))
    var criterion: String?

    @Option(help: "Seed of --criterion random: the same seed gives the same plans.")
    var seed: UInt64 = 0

    @OptionGroup var superExperts: SuperExpertOptions

    @Option(help: "With --counts: random plans per sparsity (seeds 0..<N), as a baseline (formats/eval.md).")
    var random: Int = 0

    @Flag(help: "With --counts: also evaluate each counts plan merged (prune --merge, formats/merge.md) instead of dropped.")
    var merge = false

    @Option(help: ArgumentHelp("What --merge compares, as prune --merge-similarity: output or router (default: output when the counts have output_sketch, else router).", valueName: "output|router"))
    var mergeSimilarity: ExpertMerge.Similarity?

    @Option(name: .customLong("top-k"), help: "New experts per token for every plan (overrides a plan file's top_k).")
    var topK: Int?

    @Option(help: "Context length for the FLOPs column.")
    var context: Int = 4096

    @OptionGroup var eval: EvalOptions

    @OptionGroup var reader: DataOptions

    private var sparsities: [Double] { sparsity?.values ?? Self.defaultSparsity }
    private var strategies: [ExpertSelection.Strategy] { strategy?.values ?? [.layer] }
    private var criteria: [ExpertSelection.Criterion] { list(criterion ?? "hard").compactMap(ExpertSelection.Criterion.init(rawValue:)) }

    private func list(_ text: String) -> [String] { text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }

    func validate() throws {
        let countsFree = criterion != nil && criteria.allSatisfy { !$0.needsCounts }
        guard counts != nil || !planFiles.isEmpty || countsFree else {
            throw ValidationError("give --counts, --plan FILE, or both (or --criterion aimer or random)")
        }
        if counts == nil && ((!countsFree && (sparsity != nil || strategy != nil || criterion != nil)) || random != 0 || merge) {
            throw ValidationError("--sparsity, --strategy, --criterion, --random and --merge choose experts from counts; give --counts")
        }
        if mergeSimilarity != nil && !merge {
            throw ValidationError("--merge-similarity chooses how --merge groups experts; give --merge")
        }
        if superExperts.rule != nil && counts == nil { throw ValidationError("--keep-super-experts finds them in --counts; give --counts") }
        guard (0...1000).contains(random) else { throw ValidationError("--random must be between 0 and 1000 plans per sparsity") }
        guard sparsities.allSatisfy({ $0 > 0 && $0 < 1 }) else {
            throw ValidationError("--sparsity must list fractions between 0 and 1, e.g. 0.125,0.25")
        }
        guard criteria.count == list(criterion ?? "hard").count, !criteria.isEmpty else {
            throw ValidationError("--criterion must list some of \(ExpertSelection.Criterion.allValueStrings.joined(separator: ", "))")
        }
        if let topK, topK < 1 { throw ValidationError("--top-k must be at least 1") }
    }

    func run() throws {
        try failing {
            ProcessMemory.keepFreedPages()
            let checkpoint = try Checkpoint(path: model)
            eval.engine.applyThreads()
            let unplanned = try eval.engine.logitsPass(checkpoint)
            ImageRoutingWarning.warn(unplanned.model)
            let planner = try eval.planner(checkpoint, model: unplanned.model)
            if let note = planner.streamingNote { printError(note) }
            let pass = unplanned.streaming(planner.streams)
            var sweep = try SweepPlans(checkpoint: checkpoint, model: pass.model, context: context)
            if counts != nil || criterion != nil { try addCountPlans(to: &sweep, counts: counts, checkpoint: checkpoint) }
            for file in planFiles { try sweep.add(planFile: file, topK: topK) }
            var scratch: [ScratchMerge] = []
            var models = [LogitsSource(pass: pass, vocabSlice: planner.vocabSlice)]
            for candidate in sweep.plans {
                guard candidate.merged, let counts else {
                    models.append(LogitsSource(pass: pass, plan: candidate.plan, vocabSlice: planner.vocabSlice))
                    continue
                }
                let loaded = try ExpertCounts.load(counts, for: pass.model)
                let similarity = mergeSimilarity ?? ExpertMerge.defaultSimilarity(loaded)
                if scratch.isEmpty { printError("moe-slim: note: \(similarity.note)") }
                let merged = try ScratchMerge(input: checkpoint, model: pass.model, plan: candidate.plan,
                                              counts: loaded, countsPath: counts, similarity: similarity)
                scratch.append(merged)
                let mergedPass = try eval.engine.logitsPass(merged.checkpoint)
                models.append(LogitsSource(pass: mergedPass, vocabSlice: planner.vocabSlice))
            }
            defer { withExtendedLifetime(scratch) {} }
            let results = try eval.evaluate(models, checkpoint: checkpoint, reader: reader, chunkTokens: planner.chunkTokens, label: "sweep")
            let output = SweepOutput(model: model, counts: counts, planFiles: planFiles, task: eval.task.rawValue, context: context, rows: sweep.rows)
            switch results {
            case .perplexity(let r): print(eval.json ? output.json(r) : output.table(r))
            case .choice(let r): print(eval.json ? output.json(r) : output.table(r))
            }
        }
    }

    /// Every combination of --sparsity, --strategy and --criterion, in that order; combinations that cannot
    /// make a plan for this model are skipped with a warning, and an error only when none can.
    private func addCountPlans(to sweep: inout SweepPlans, counts: String?, checkpoint: Checkpoint) throws(MoESlimError) {
        let model = sweep.model
        let expertCounts = try counts.map { (path) throws(MoESlimError) in (try ExpertCounts.load(path, for: model), path) }
        var made = 0
        for s in sparsities {
            for st in strategies {
                for c in criteria {
                    let plan: PruningPlan
                    do throws(MoESlimError) {
                        plan = try ExpertSelection(criterion: c, strategy: st, amount: .sparsity(s), topK: topK, seed: seed, superExperts: superExperts.rule)
                            .plan(model: sweep.model, counts: expertCounts, weights: checkpoint)
                    } catch {
                        printError("moe-slim: skipping sparsity \(s), \(st.rawValue), \(c.rawValue): \(shown(error))")
                        continue
                    }
                    try sweep.add(plan, sparsity: s, strategy: st.rawValue, criterion: c.rawValue)
                    if merge { try sweep.add(plan, sparsity: s, strategy: st.rawValue, criterion: c.rawValue, merged: true) }
                    made += 1
                }
            }
            for seed in 0..<UInt64(random) {
                let plan = try ExpertSelection(criterion: .random, strategy: .layer, amount: .sparsity(s), topK: topK, seed: seed)
                    .plan(model: sweep.model, counts: nil, weights: checkpoint)
                try sweep.add(plan, sparsity: s, strategy: "layer", criterion: "random", seed: seed)
            }
        }
        guard made > 0 else {
            throw MoESlimError(.invalidPlan, "no combination of --sparsity, --strategy and --criterion gave a plan for this model", path: counts ?? self.model)
        }
    }
}
