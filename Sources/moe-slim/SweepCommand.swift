import ArgumentParser
import Foundation
import MoESlim

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Evaluate several pruning plans without writing checkpoints, and print one table to choose from.",
        discussion: """
            Every combination of --sparsity, --strategy and --criterion becomes a plan (as `prune --counts` would \
            choose it); each is evaluated with the routers masked to the experts it keeps, which computes \
            exactly what the pruned checkpoint would. The base model runs once per chunk of records and every \
            plan is compared with it: perplexity, KL(base‖plan), top-1 agreement (or accuracy with --task \
            choice), next to the bytes and FLOPs per token that `prune --dry-run` reports.
            """)

    @Argument(help: "A .safetensors file or a model folder (with config.json).")
    var model: String

    @Option(help: "Counts file written by calibrate.")
    var counts: String

    @Option(help: "Comma-separated fractions of experts to remove, each 0 < S < 1.")
    var sparsity: String = "0.125,0.25,0.375,0.5"

    @Option(help: "Comma-separated strategies: layer, global.")
    var strategy: String = "layer"

    @Option(help: "Comma-separated criteria: hard, soft, soft-softmax, saliency.")
    var criterion: String = "hard"

    @Option(name: .customLong("top-k"), help: "New experts per token for every plan.")
    var topK: Int?

    @Option(help: "Context length for the FLOPs column.")
    var context: Int = 4096

    @OptionGroup var eval: EvalOptions

    @OptionGroup var reader: DataOptions

    private var sparsities: [Double] { sparsity.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) } }
    private var strategies: [ExpertSelection.Strategy] { list(strategy).compactMap(ExpertSelection.Strategy.init(rawValue:)) }
    private var criteria: [ExpertSelection.Criterion] { list(criterion).compactMap(ExpertSelection.Criterion.init(rawValue:)) }

    private func list(_ text: String) -> [String] { text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }

    func validate() throws {
        guard sparsities.count == list(sparsity).count, !sparsities.isEmpty, sparsities.allSatisfy({ $0 > 0 && $0 < 1 }) else {
            throw ValidationError("--sparsity must list fractions between 0 and 1, e.g. 0.125,0.25")
        }
        guard strategies.count == list(strategy).count, !strategies.isEmpty else { throw ValidationError("--strategy must list layer and/or global") }
        guard criteria.count == list(criterion).count, !criteria.isEmpty else {
            throw ValidationError("--criterion must list some of \(ExpertSelection.Criterion.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let topK, topK < 1 { throw ValidationError("--top-k must be at least 1") }
    }

    /// One row of the table: a plan and its size; rows whose plans coincide share one evaluation.
    struct Row {
        var sparsity: Double
        var strategy: String
        var criterion: String
        var size: SizeReport
        var model: Int
    }

    func run() throws {
        try failing {
            ProcessMemory.keepFreedPages()
            let checkpoint = try Checkpoint(path: model)
            let pass = try ForwardPass(checkpoint: checkpoint)
            let description = pass.model
            let expertCounts = try ExpertCounts.load(counts)
            let planner = try eval.planner(checkpoint, model: description)
            var plans: [PruningPlan] = []
            var rows = [Row(sparsity: 0, strategy: "base", criterion: "-", size: try SizeReport(checkpoint, context: context), model: 0)]
            for s in sparsities {
                for st in strategies {
                    for c in criteria {
                        let plan: PruningPlan
                        do throws(MoESlimError) {
                            plan = try ExpertSelection(criterion: c, strategy: st, amount: .sparsity(s), topK: topK)
                                .plan(model: description, counts: expertCounts, countsPath: counts)
                        } catch {
                            printError("moe-slim: skipping sparsity \(s), \(st.rawValue), \(c.rawValue): \(error)")
                            continue
                        }
                        let transform = try PruneTransform(checkpoint: checkpoint, model: description, plan: plan)
                        let size = SizeReport(model: transform.prunedDescription(description), tensors: transform.tensorShapes, path: "(pruned)", context: context)
                        if !plans.contains(plan) { plans.append(plan) }
                        rows.append(Row(sparsity: s, strategy: st.rawValue, criterion: c.rawValue, size: size, model: 1 + plans.firstIndex(of: plan)!))
                    }
                }
            }
            guard !plans.isEmpty else {
                throw MoESlimError(.invalidPlan, "no combination of --sparsity, --strategy and --criterion gave a plan for this model", path: counts)
            }
            let models = [LogitsSource(pass: pass, vocabSlice: planner.vocabSlice)]
                + plans.map { LogitsSource(pass: pass, plan: $0, vocabSlice: planner.vocabSlice) }
            let results = try eval.evaluate(models, checkpoint: checkpoint, reader: reader, chunkTokens: planner.chunkTokens, label: "sweep")
            print(eval.json ? json(rows, results) : table(rows, results))
        }
    }

    private func json(_ rows: [Row], _ results: EvalResults) -> String {
        let items: [JSONValue] = rows.map { row in
            var members: [(key: String, value: JSONValue)] = [
                ("sparsity", EvalOutput.number(row.sparsity)), ("strategy", .string(row.strategy)), ("criterion", .string(row.criterion)),
                ("bytes", .int(row.size.bytes)), ("flops_per_token", EvalOutput.number(row.size.flopsPerToken)),
            ]
            switch results {
            case .perplexity(let r):
                members += [("perplexity", EvalOutput.number(r[row.model].total.perplexity)), ("tokens", .int(r[row.model].total.tokens))]
                if row.model > 0 {
                    members += [("kl", EvalOutput.number(r[row.model].total.kl)), ("top1_agreement", EvalOutput.number(r[row.model].total.top1Agreement))]
                }
            case .choice(let r):
                members += [("accuracy", EvalOutput.number(r[row.model].total.accuracy)), ("questions", .int(r[row.model].total.questions))]
            }
            return .object(members)
        }
        return JSONValue.object([
            ("model", .string(model)), ("counts", .string(counts)), ("task", .string(eval.task)), ("context", .int(context)),
            ("rows", .array(items)),
        ]).serialized()
    }

    private func table(_ rows: [Row], _ results: EvalResults) -> String {
        var header = ["sparsity", "strategy", "criterion", "bytes", "FLOPs/token"]
        switch results {
        case .perplexity: header += ["perplexity", "KL vs base", "top-1 agree"]
        case .choice: header += ["accuracy"]
        }
        var cells = [header]
        for row in rows {
            var line = [String(format: "%.3f", row.sparsity), row.strategy, row.criterion, EvalOutput.bytes(row.size.bytes), EvalOutput.count(row.size.flopsPerToken)]
            switch results {
            case .perplexity(let r):
                let m = r[row.model].total
                line += [String(format: "%.4f", m.perplexity)]
                line += row.model == 0 ? ["-", "-"] : [String(format: "%.6f", m.kl), String(format: "%.2f%%", m.top1Agreement * 100)]
            case .choice(let r):
                line += [String(format: "%.2f%%", r[row.model].total.accuracy * 100)]
            }
            cells.append(line)
        }
        let widths = header.indices.map { c in cells.map { $0[c].count }.max() ?? 0 }
        let body = cells.map { line in
            line.enumerated().map { c, cell in
                c < 3 ? cell.padding(toLength: widths[c], withPad: " ", startingAt: 0) : String(repeating: " ", count: widths[c] - cell.count) + cell
            }.joined(separator: "  ")
        }
        let tokens: String
        switch results {
        case .perplexity(let r): tokens = "\(r[0].total.tokens) tokens"
        case .choice(let r): tokens = "\(r[0].total.questions) questions"
        }
        return (["\(model): \(rows.count - 1) plans from \(counts), \(tokens), FLOPs at n_ctx \(context)"] + body).joined(separator: "\n")
    }
}
