import ArgumentParser
import Foundation
import MoESlimSupport
import MoESlimFormats
import MoESlimSlimming

struct MergeLoraCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge-lora",
        abstract: "Fold trained PEFT LoRA/DoRA adapters into a checkpoint, as PEFT's merge_and_unload does.",
        discussion: """
            moe-slim merge-lora BASE ADAPTER OUT, or moe-slim merge-lora BASE OUT --adapter DIR[:WEIGHT] ... to \
            merge several adapters in order. An adapter is a PEFT folder (adapter_config.json and \
            adapter_model.safetensors) trained on BASE or on the same model before renaming by transformers.
            """)

    @Argument(help: "BASE [ADAPTER] OUT: the checkpoint, optionally one adapter folder, and the output.")
    var paths: [String]

    @Option(name: .customLong("adapter"),
            help: ArgumentHelp("An adapter folder, optionally :WEIGHT to scale its delta; repeatable, merged in order.", valueName: "dir[:weight]"),
            completion: .directory, transform: parseAdapter)
    var adapters: [MergePlan.AdapterSource] = []

    @Option(name: .customLong("adapter-name"), help: "The adapter name inside the files when it is not PEFT's default.")
    var adapterName: String?

    @Option(help: "Output dtype: keep, bf16, f16 or f32 (also spelled bfloat16, fp16, float16, fp32, float32).")
    var dtype: OutputDType = .keep

    @Option(help: "once: add in f32 and round once (default); peft: round where PEFT rounds, for bit-identical results.")
    var rounding: MergeRounding = .once

    @OptionGroup var outputOptions: OutputOptions

    func validate() throws {
        guard paths.count == 2 || paths.count == 3 else { throw ValidationError("expected BASE [ADAPTER] OUT") }
        guard paths.count == 3 || !adapters.isEmpty else { throw ValidationError("no adapter: give BASE ADAPTER OUT or --adapter DIR") }
    }

    func run() throws {
        let sources = (paths.count == 3 ? [MergePlan.AdapterSource(path: paths[1])] : []) + adapters
        try failing {
            let base = try Checkpoint(path: paths[0])
            let output = paths[paths.count - 1]
            let adapterFolders = sources.map(\.path)
            try OutputTarget.check([OutputTarget(output, option: "the output", kind: .checkpoint(companionsFrom: base.isFolder ? base.folder : nil))],
                                   inputs: base.inputPaths + adapterFolders, force: outputOptions.force)
            let plan = try MergePlan(checkpoint: base, adapters: sources, adapterName: adapterName)
            try LoraMergeWriter(base: base, plan: plan, destination: output, dtype: dtype.storage, rounding: rounding,
                                sharding: outputOptions.sharding, force: outputOptions.force, otherInputs: adapterFolders).write()
            for (summary, source) in zip(plan.summaries, sources) {
                let weight = source.weight == 1 ? "" : " (weight \(source.weight))"
                print("\(summary.path)\(weight): \(summary.modules.count) modules merged into \(summary.tensors.count) tensors")
                for (pattern, count) in Self.grouped(summary.modules) { print("  \(EscapedText.of(pattern)) ×\(count)") }
                for replaced in summary.replaced { print("  \(EscapedText.of(replaced)) (replaced)") }
            }
            print("wrote \(paths[paths.count - 1]): \(plan.changedTensors.count) of \(base.tensorCount) tensors changed")
        }
    }

    /// Module names with their layer and expert numbers folded, so a 64-layer model prints a few lines.
    static func grouped(_ modules: [String]) -> [(String, Int)] {
        var order: [String] = []
        var counts: [ByteName: Int] = [:]
        for module in modules {
            let pattern = module.byteSplit(".")
                .map { !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } ? "*" : $0 }.joined(separator: ".")
            if counts[ByteName(pattern)] == nil { order.append(pattern) }
            counts[ByteName(pattern), default: 0] += 1
        }
        return order.map { ($0, counts[ByteName($0)]!) }
    }

    /// DIR:WEIGHT, unless DIR itself contains a colon and exists as given; parsed once, by the parser.
    static func parseAdapter(_ spec: String) throws -> MergePlan.AdapterSource {
        if let colon = spec.lastIndex(of: ":"), !FileManager.default.fileExists(atPath: spec) {
            let text = spec[spec.index(after: colon)...]
            guard let weight = Double(text), weight.isFinite else {
                throw ValidationError("the weight after ':' is not a number")
            }
            return MergePlan.AdapterSource(path: String(spec[..<colon]), weight: weight)
        }
        return MergePlan.AdapterSource(path: spec)
    }
}
