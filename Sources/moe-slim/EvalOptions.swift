import ArgumentParser
import Foundation
import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies
import MoESlimText
import MoESlimEngine
import MoESlimSlimming

/// What `eval` and `sweep` share: the data, the task and its record fields, the tokenizer, the budget and the
/// arithmetic.
struct EvalOptions: ParsableArguments {
    enum Task: String, CaseIterable, ExpressibleByArgument {
        case perplexity, choice
    }

    @Option(name: .customLong("data"), help: "Input file: .jsonl (text or input_ids), plain text, either .zst; repeatable.")
    var data: [String] = []

    @Option(help: "perplexity: next-token perplexity of the records; choice: multiple-choice accuracy (JSON Lines).")
    var task: Task = .perplexity

    @Option(help: "--task choice: field with the question text (or build it with --template).")
    var promptField: String = "question"

    @Option(help: "--task choice: field with the list of choice strings.")
    var choicesField: String = "choices"

    @Option(help: "--task choice: field with the index of the right choice.")
    var answerField: String = "answer"

    @Option(help: "tokenizer.json to use instead of the model folder's.")
    var tokenizer: String?

    @Option(help: ArgumentHelp("Memory budget for one layer's weights, activations and logits (e.g. 8GB or 8GiB); sets the chunk size.", valueName: "size"))
    var memory = ComputeOptions.defaultMemory

    @Flag(help: "Print the results as JSON (formats/eval.md).")
    var json = false

    @OptionGroup var engine: ComputeOptions

    func validate() throws {
        guard !data.isEmpty else { throw ValidationError("give at least one --data FILE") }
    }

    func planner(_ checkpoint: Checkpoint, model: ModelDescription) throws(MoESlimError) -> ChunkPlanner {
        try ChunkPlanner(checkpoint: checkpoint, model: model, budget: memory.bytes, logitCopies: 2, compute: engine.compute)
    }

    /// Runs the task over the data with every model; results come back in the models' order.
    func evaluate(
        _ models: [LogitsSource], checkpoint: Checkpoint, reader: DataOptions, chunkTokens: Int, label: String
    ) throws(MoESlimError) -> EvalResults {
        let options = try reader.readerOptions()
        let tokenizer = try loadTokenizer(checkpoint)
        let progress = ProgressLine(total: task == .perplexity ? reader.maxTokens : nil, label: label)
        defer { progress.finish() }
        let vocabulary = models[0].pass.model.vocabSize
        switch task {
        case .perplexity:
            let records = try RecordReader(paths: data, options: options, tokenizer: tokenizer)
            let results = try PerplexityEvaluation(models: models, chunkTokens: chunkTokens).run(
                next: { () throws(MoESlimError) in try records.next().map { r throws(MoESlimError) in try checked(r, vocabulary: vocabulary) } },
                progress: { progress.update($0, fractionRead: records.fractionRead) })
            guard results[0].total.tokens > 0 else {
                throw MoESlimError(.invalidData, "the data gave no next tokens to predict (records need at least two tokens)", path: data.first)
            }
            return .perplexity(results)
        case .choice:
            if reader.seqLen != nil || reader.maxTokens != nil || reader.wholeFile {
                throw MoESlimError(.invalidArgument, "--seq-len, --max-tokens and --whole-file do not apply to --task choice (a question is never cut); use --max-records")
            }
            guard let tokenizer else {
                throw MoESlimError(.invalidTokenizer, "--task choice tokenizes prompts and choices; the model folder has no tokenizer.json (give --tokenizer)")
            }
            let fields = ChoiceRecordReader.Fields(prompt: promptField, choices: choicesField, answer: answerField)
            let questions = try ChoiceRecordReader(paths: data, options: options, fields: fields, tokenizer: tokenizer)
            let results = try ChoiceEvaluation(models: models, chunkTokens: chunkTokens).run(
                next: { () throws(MoESlimError) in try questions.next().map { q throws(MoESlimError) in try checked(q, vocabulary: vocabulary) } },
                progress: { progress.update($0, fractionRead: questions.fractionRead) })
            guard results[0].total.questions > 0 else { throw MoESlimError(.invalidData, "the data gave no questions", path: data.first) }
            return .choice(results)
        }
    }

    /// The model folder's tokenizer.json when there is one; without any, text records fail with a clear error.
    private func loadTokenizer(_ checkpoint: Checkpoint) throws(MoESlimError) -> Tokenizer? {
        if let tokenizer { return try Tokenizer(path: tokenizer) }
        let beside = checkpoint.folder + "/tokenizer.json"
        return FileManager.default.fileExists(atPath: beside) ? try Tokenizer(path: beside) : nil
    }

    /// Token ids beyond the embedding usually mean the wrong tokenizer; say which record, not just which id.
    private func checked(_ record: CalibrationRecord, vocabulary: Int) throws(MoESlimError) -> CalibrationRecord {
        if let bad = record.tokens.first(where: { $0 < 0 || Int($0) >= vocabulary }) {
            throw MoESlimError(.invalidData, "token id \(bad) is outside the model's vocabulary (\(vocabulary) entries); is the tokenizer the model's?", path: "\(record.path):\(record.line)")
        }
        return record
    }

    private func checked(_ question: ChoiceQuestion, vocabulary: Int) throws(MoESlimError) -> ChoiceQuestion {
        if let bad = question.choices.lazy.flatMap(\.tokens).first(where: { Int($0) >= vocabulary }) {
            throw MoESlimError(.invalidData, "token id \(bad) is outside the model's vocabulary (\(vocabulary) entries); is the tokenizer the model's?")
        }
        return question
    }
}

enum EvalResults {
    case perplexity([Grouped<NextTokenMetrics>])
    case choice([Grouped<ChoiceScoring>])
}
