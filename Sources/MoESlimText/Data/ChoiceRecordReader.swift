import MoESlimSupport

/// Streams multiple-choice questions out of JSON Lines files: a prompt (or `--template` over the record's
/// fields), a list of choice strings and the index of the right one. Sharding, `--max-records`, `--group-by`
/// and `--skip-bad` behave as in RecordReader; each choice is tokenized as lm-evaluation-harness does.
public final class ChoiceRecordReader {
    public struct Fields: Sendable {
        public var prompt: String
        public var choices: String
        public var answer: String

        public init(prompt: String, choices: String, answer: String) {
            self.prompt = prompt
            self.choices = choices
            self.answer = answer
        }
    }

    public private(set) var skippedLines = 0
    public private(set) var emittedRecords = 0

    private let paths: [String]
    private let share: ReadShare
    private let options: DataReaderOptions
    private let fields: Fields
    private let tokenizer: Tokenizer
    private let template: RecordTemplate?
    private var fileIndex = 0
    private var lines: LineReader?
    private var recordIndex = 0

    public init(paths: [String], options: DataReaderOptions, fields: Fields, tokenizer: Tokenizer) throws(MoESlimError) {
        guard !paths.isEmpty else { throw MoESlimError(.invalidArgument, "no input files") }
        if options.maxRecordBytes < 1 { throw MoESlimError(.invalidArgument, "--max-record-bytes must be >= 1") }
        for path in paths where options.format(of: path) != .jsonl {
            throw MoESlimError(.invalidArgument, "multiple-choice records must be JSON Lines (--format jsonl)", path: path)
        }
        self.paths = paths
        self.share = ReadShare(paths: paths)
        self.options = options
        self.fields = fields
        self.tokenizer = tokenizer
        self.template = try options.template.map { text throws(MoESlimError) in try RecordTemplate(text) }
    }

    public func next() throws(MoESlimError) -> ChoiceQuestion? {
        while true {
            if let max = options.maxRecords, emittedRecords >= max { return nil }
            guard let (raw, path, line) = try nextLine() else { return nil }
            let r = recordIndex
            recordIndex += 1
            guard r % options.shardCount == options.shardIndex else { continue }
            let parsed: Result<ChoiceQuestion, RecordFailure>
            switch raw {
            case .bytes(let bytes): parsed = parse(bytes)
            case .overLimit: parsed = .failure(options.overLimit)
            }
            switch parsed {
            case .success(let question):
                emittedRecords += 1
                return question
            case .failure(let failure):
                if options.skipBad {
                    skippedLines += 1
                    continue
                }
                throw MoESlimError(.invalidData, "line \(line): \(failure.reason)", path: path)
            }
        }
    }

    /// The share of the input bytes read so far, as RecordReader.fractionRead.
    public var fractionRead: Double? { share.fraction(finishedFiles: fileIndex, consumed: lines?.consumed ?? 0) }

    private func nextLine() throws(MoESlimError) -> (LineReader.Line, String, Int)? {
        while fileIndex < paths.count {
            if lines == nil { lines = try LineReader(path: paths[fileIndex], kind: .data, limit: options.maxRecordBytes) }
            while let line = try lines!.next() {
                if case .bytes(let bytes) = line, bytes.isEmpty { continue }
                return (line, paths[fileIndex], lines!.lineNumber)
            }
            lines = nil
            fileIndex += 1
        }
        return nil
    }

    private func parse(_ bytes: ArraySlice<UInt8>) -> Result<ChoiceQuestion, RecordFailure> {
        let document: JSONCDocument
        switch bytes.withUnsafeBytes({ JSONCDocument.parse($0) }) {
        case .success(let parsed): document = parsed
        case .failure(let failure): return .failure(RecordFailure("invalid JSON: \(failure)"))
        }
        let root = document.root
        guard root.isObject else { return .failure(RecordFailure("a JSON Lines record must be an object")) }
        let prompt: String
        if let template {
            switch template.render({ root[$0]?.bytes ?? root[$0]?.int.map { Array(String($0).utf8) } }) {
            case .success(let rendered): prompt = String(decoding: rendered, as: UTF8.self)
            case .failure(let failure): return .failure(failure)
            }
        } else {
            guard let text = root[fields.prompt]?.string else { return .failure(RecordFailure("no string field '\(fields.prompt)'")) }
            prompt = text
        }
        guard !prompt.isEmpty else { return .failure(RecordFailure("the prompt is empty; choices need a context to follow")) }
        guard let items = root[fields.choices]?.array, !items.isEmpty else {
            return .failure(RecordFailure("no non-empty array field '\(fields.choices)'"))
        }
        var choices: [String] = []
        for item in items {
            guard let text = item.string, !text.isEmpty else { return .failure(RecordFailure("'\(fields.choices)' must hold non-empty strings")) }
            choices.append(text)
        }
        guard let answer = root[fields.answer]?.int ?? root[fields.answer]?.string.flatMap({ Int($0) }) else {
            return .failure(RecordFailure("no integer field '\(fields.answer)' (the index of the right choice)"))
        }
        guard choices.indices.contains(answer) else {
            return .failure(RecordFailure("'\(fields.answer)' is \(answer), but there are \(choices.count) choices"))
        }
        var group: String?
        if let field = options.groupBy {
            guard let value = root[field]?.string ?? root[field]?.int.map(String.init) else {
                return .failure(RecordFailure("no string field '\(field)' for --group-by"))
            }
            group = value
        }
        var encoded: [(tokens: [Int32], continuationStart: Int)] = []
        for choice in choices {
            do {
                encoded.append(try ChoiceScoring.encode(prompt: prompt, choice: choice, tokenizer: tokenizer))
            } catch {
                return .failure(RecordFailure(error.description))
            }
        }
        guard encoded.allSatisfy({ $0.tokens.count > $0.continuationStart }) else {
            return .failure(RecordFailure("a choice encodes to no tokens of its own"))
        }
        return .success(ChoiceQuestion(choices: encoded, answer: answer, group: group))
    }
}
