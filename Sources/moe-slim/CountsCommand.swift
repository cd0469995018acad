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
        abstract: "Print a counts file as a table per MoE layer, optionally with the heatmap as SVG.")

    @Argument(help: "Counts file.")
    var input: String

    @Option(help: "Write the layers × experts heatmap of hard-count shares as SVG.")
    var heatmap: String?

    @Flag(help: "Replace an existing heatmap file.")
    var force = false

    func run() throws {
        try failing {
            if let heatmap {
                try OutputTarget.check([OutputTarget(heatmap, option: "--heatmap", kind: .file)], inputs: [input], force: force)
            }
            let counts = try ExpertCounts.load(input)
            print(CountsTable.text(counts))
            if let heatmap {
                try CountsHeatmap.svg(counts, title: "\(counts.modelType): expert usage").writeAtomically(to: heatmap)
                print("heatmap: \(heatmap)")
            }
        }
    }
}
