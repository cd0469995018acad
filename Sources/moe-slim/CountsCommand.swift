import ArgumentParser
import Foundation
import MoESlimSupport
import MoESlimFormats
import MoESlimSlimming

struct CountsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "counts",
        abstract: "Merge and show counts files written by calibrate.",
        subcommands: [CountsMergeCommand.self, CountsShowCommand.self])
}

struct CountsMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Add up counts of disjoint data shards (refuses counts of different models).")

    @Argument(help: "Counts files to add up.")
    var inputs: [String]

    @Option(name: [.customShort("o"), .customLong("output")], help: "Merged counts file.")
    var output: String

    @Flag(help: "Replace an existing output file.")
    var force = false

    @Flag(help: "Add up counts made with different --compute or data settings (seq-len, template, limits); warns.")
    var allowMismatchedSettings = false

    func run() throws {
        try failing {
            try OutputTarget.check([OutputTarget(output, option: "-o", kind: .file)], inputs: inputs, force: force)
            var parts: [(counts: ExpertCounts, path: String)] = []
            for path in inputs { parts.append((try ExpertCounts.load(path), path)) }
            let merged = try ExpertCounts.merged(parts, allowingMismatchedSettings: allowMismatchedSettings)
            for line in CountsSettings.mismatches(parts) {
                printError("moe-slim: warning: merging counts made with different settings: \(EscapedText.of(line))")
            }
            try merged.write(to: output)
            print("wrote \(output): \(merged.tokens) tokens from \(inputs.count) files")
        }
    }
}

struct CountsShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print a counts file as a table per MoE layer and its super experts, optionally with the heatmap as SVG.")

    @Argument(help: "Counts file, or a llama-imatrix .gguf (its per-expert token counts).")
    var input: String

    @Option(help: "Write the layers × experts heatmap of hard-count shares as SVG.")
    var heatmap: String?

    @Flag(help: "Replace an existing heatmap file.")
    var force = false

    @Flag(help: "Also list every expert's hard count and share, per layer, most used first.")
    var experts = false

    @Flag(help: "Print the counts per expert as JSON (dead experts listed per layer).")
    var json = false

    @Option(help: ArgumentHelp("Counts of the other half of the data (e.g. input from calibrate --shard 0/2, this from --shard 1/2): print how well the halves agree on the ranking and the kept experts (formats/counts.md).", valueName: "counts"))
    var stability: String?

    @Option(help: ArgumentHelp("With --stability: the ranking compared (default hard).", valueName: "criterion"))
    var criterion = ExpertSelection.Criterion(.hard)

    func run() throws {
        try failing {
            if let heatmap {
                try OutputTarget.check([OutputTarget(heatmap, option: "--heatmap", kind: .file)], inputs: [input], force: force)
            }
            let counts = try input.hasByteSuffix(".gguf") ? ImatrixCounts.load(input) : ExpertCounts.load(input)
            if let stability {
                let other = try ExpertCounts.load(stability)
                let result = try CountsStability(counts, pathA: input, other, pathB: stability, criterion: criterion, sparsities: [0.25, 0.5])
                print(Self.stabilityTable(result, tokens: (counts.tokens, other.tokens), criterion: criterion))
                return
            }
            if json {
                print(CountsDetails.json(counts))
            } else {
                print(CountsTable.text(counts))
                print(CountsDetails.deadSummary(counts))
                if counts.layers.allSatisfy({ !$0.sums[.maxAbsOutput].isEmpty }) {
                    print(try SuperExperts(counts: counts, rule: SuperExperts.Rule(), path: input).lines.joined(separator: "\n"))
                }
                if experts { print("\n" + CountsDetails.text(counts)) }
            }
            if let heatmap {
                try CountsHeatmap.svg(counts, title: "\(counts.modelType): expert usage").writeAtomically(to: heatmap)
                if !json { print("heatmap: \(heatmap)") }
            }
        }
    }
}

extension CountsShowCommand {
    /// One row per layer and a mean row: rank correlations and the kept-set agreement at 25% and 50% removed.
    static func stabilityTable(_ s: CountsStability, tokens: (Int, Int), criterion: ExpertSelection.Criterion) -> String {
        let keepHeaders = s.sparsities.map { "kept agree @\(Int(($0 * 100).rounded()))%" }
        var lines = ["split-half stability of the \(criterion.name) ranking: \(tokens.0) and \(tokens.1) tokens"]
        let header = ["layer", "spearman", "kendall"] + keepHeaders
        var rows: [[String]] = s.layers.map { l in
            [String(l.layer), String(format: "%.3f", l.spearman), String(format: "%.3f", l.kendall)]
                + zip(l.keptAgreement, l.keeps).map { String(format: "%.3f (%d)", $0, $1) }
        }
        let n = Double(max(s.layers.count, 1))
        rows.append(["mean", String(format: "%.3f", s.layers.reduce(0) { $0 + $1.spearman } / n),
                     String(format: "%.3f", s.layers.reduce(0) { $0 + $1.kendall } / n)]
                    + s.sparsities.indices.map { i in String(format: "%.3f", s.layers.reduce(0) { $0 + $1.keptAgreement[i] } / n) })
        let cells = [header] + rows
        let widths = header.indices.map { c in cells.map { $0[c].count }.max() ?? 0 }
        lines += cells.map { row in
            row.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return c == 0 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        lines.append("kept agree: |A ∩ B| / |A ∪ B| of the experts each half keeps (in brackets: experts kept); 1 = the same experts")
        return lines.joined(separator: "\n")
    }
}
