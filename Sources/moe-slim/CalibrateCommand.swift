import ArgumentParser
import Foundation
import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies
import MoESlimText
import MoESlimEngine
import MoESlimSlimming

struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Run calibration data through the model and count, per MoE layer and expert, what the router does.",
        discussion: """
            Each record is one sequence (never packed with others); --seq-len only splits long ones. Text is \
            tokenized with the model folder's tokenizer.json unless --tokenizer names another; JSON Lines \
            records may carry input_ids instead. Counts are sums, so runs over disjoint --shard i/n parts add up \
            with `moe-slim counts merge`. Supported: \(EngineFamilies.supportedModelTypes.joined(separator: ", ")).
            """)

    @Argument(help: "A .safetensors file or a model folder (with config.json).")
    var model: String

    @Option(name: .customLong("data"), help: "Input file: .jsonl or a .json array (text or input_ids), plain text, any of them .zst or .gz; repeatable.")
    var data: [String] = []

    @Option(name: [.customShort("o"), .customLong("output")], help: "Counts file to write (formats/counts.md).")
    var output: String

    @Option(help: "tokenizer.json to use instead of the model folder's.")
    var tokenizer: String?

    @OptionGroup var reader: DataOptions

    @OptionGroup var engine: ComputeOptions

    @Option(help: ArgumentHelp("Memory budget for one layer's weights and activations (e.g. 8GB or 8GiB); sets the chunk size.", valueName: "size"))
    var memory = ComputeOptions.defaultMemory

    @Option(help: "Also write the layers × experts heatmap of hard-count shares as SVG.")
    var heatmap: String?

    @Flag(help: "Replace an existing output file.")
    var force = false

    /// The baseline of bench/statistics_bench.sh: route and count top-k hits only, measure no expert output, and
    /// write nothing (the file would lack every other statistic).
    @Flag(help: ArgumentHelp("Benchmark baseline: count top-k hits only and write nothing.", visibility: .hidden))
    var hardCountsOnly = false

    func validate() throws {
        guard !data.isEmpty else { throw ValidationError("give at least one --data FILE") }
    }

    func run() throws {
        try failing {
            ProcessMemory.keepFreedPages()
            let checkpoint = try Checkpoint(path: model)
            try OutputTarget.check(outputs, inputs: checkpoint.inputPaths + data + [tokenizerPath(checkpoint)].compactMap { $0 }, force: force)
            engine.applyThreads()
            var pass = try ForwardPass(checkpoint: checkpoint, compute: engine.compute)
            ImageRoutingWarning.warn(pass.model)
            pass.measuresExpertOutputs = !hardCountsOnly
            let planner = try ChunkPlanner(checkpoint: checkpoint, model: pass.model, budget: memory.bytes, compute: engine.compute)
            if let note = planner.streamingNote { printError(note) }
            var options = try reader.readerOptions(tokenizerFolder: self.tokenizer.map(FileSystemPath.parent) ?? checkpoint.folder)
            options.tokenizerHint = TokenizerLookup.hint(given: self.tokenizer, folder: checkpoint.folder)
            let tokenizer = try TokenizerLookup.load(given: self.tokenizer, folder: checkpoint.folder)
            let counting = try RecordReader(paths: data, options: options, tokenizer: tokenizer)
            let total = try TokenTotal.measure(
                maxTokens: options.maxTokens, next: { () throws(MoESlimError) in try counting.next()?.tokens.count },
                fractionRead: { counting.fractionRead })
            let records = try RecordReader(paths: data, options: options, tokenizer: tokenizer)
            let long = LongRecords(checkpoint)
            let progress = ProgressLine(label: "calibrate", total: total)
            defer { progress.close() }
            var calibration = Calibration(pass: pass.streaming(planner.streams), chunkTokens: planner.chunkTokens)
            if hardCountsOnly { calibration.statistics = [.hard] }
            let counts = try calibration.run(
                settings: settings(planner),
                next: { () throws(MoESlimError) in
                    guard let record = try records.next() else { return nil }
                    long.note(record.tokens.count)
                    return try checked(record, vocabulary: pass.model.vocabSize)
                },
                progress: progress.update)
            progress.finish()
            long.warn()
            guard counts.tokens > 0 else { throw MoESlimError(.invalidData, "the data gave no tokens to count", path: data.first) }
            if hardCountsOnly {
                print("counted \(counts.tokens) tokens, hard counts only; nothing written")
                return
            }
            try counts.write(to: output)
            if let heatmap {
                try CountsHeatmap.svg(counts, title: "\(counts.modelType): expert usage").writeAtomically(to: heatmap)
            }
            print("wrote \(output): \(counts.tokens) tokens in \(counts.sequences) sequences, \(counts.layers.count) MoE layers"
                + (heatmap.map { "; heatmap \($0)" } ?? ""))
        }
    }

    /// Token ids beyond the embedding usually mean the wrong tokenizer; say which record, not just which id.
    private func checked(_ record: CalibrationRecord, vocabulary: Int) throws(MoESlimError) -> ([Int32], String?) {
        if let bad = record.tokens.first(where: { $0 < 0 || Int($0) >= vocabulary }) {
            throw MoESlimError(.invalidData, "token id \(bad) is outside the model's vocabulary (\(vocabulary) entries); is the tokenizer the model's?", path: "\(record.path):\(record.line)")
        }
        return (record.tokens, record.group)
    }

    private var outputs: [OutputTarget] {
        [OutputTarget(output, option: "-o", kind: .file)] + (heatmap.map { [OutputTarget($0, option: "--heatmap", kind: .file)] } ?? [])
    }

    /// --tokenizer, else the model folder's tokenizer.json when there is one (an input that no output may
    /// land on).
    private func tokenizerPath(_ checkpoint: Checkpoint) -> String? {
        if let tokenizer { return tokenizer }
        let beside = checkpoint.folder + "/tokenizer.json"
        return FileManager.default.fileExists(atPath: beside) ? beside : nil
    }


    /// What `counts merge` compares (CountsSettings): everything that changes which tokens are counted or how.
    private func settings(_ planner: ChunkPlanner) -> [ByteName: String] {
        var s: [ByteName: String] = [
            "data": data.joined(separator: ","), "model": model, "chunk_tokens": String(planner.chunkTokens),
            "compute": engine.compute.rawValue, "data_id": CountsSettings.dataIdentity(data),
            "format": reader.format.rawValue, "text_field": reader.textField,
        ]
        if reader.wholeFile { s["whole_file"] = "true" }
        if reader.skipBad { s["skip_bad"] = "true" }
        if let seqLen = reader.seqLen { s["seq_len"] = String(seqLen) }
        if let groupBy = reader.groupBy { s["group_by"] = groupBy }
        if let shard = reader.shard { s["shard"] = shard }
        if let maxTokens = reader.maxTokens { s["max_tokens"] = String(maxTokens) }
        if let maxRecords = reader.maxRecords { s["max_records"] = String(maxRecords) }
        if let template = reader.template { s["template"] = template }
        if let chatTemplate = reader.chatTemplate { s["chat_template"] = chatTemplate }
        return s
    }
}
