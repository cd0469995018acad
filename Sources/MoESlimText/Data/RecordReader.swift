import Foundation
import MoESlimSupport

/// Streams CalibrationRecords out of input files: plain text, JSON Lines with text or `input_ids`, either one
/// zstd-compressed. Sharding happens before parsing so each machine only parses and tokenizes its own records;
/// `--seq-len` windows and the `--max-*` limits apply to what this shard emits.
public final class RecordReader {
    public private(set) var skippedLines = 0
    public private(set) var emittedRecords = 0
    public private(set) var emittedTokens = 0

    private let paths: [String]
    private let share: ReadShare
    private let options: DataReaderOptions
    private let tokenizer: Tokenizer?
    private let template: RecordTemplate?
    private var fileIndex = 0
    private var lines: LineReader?
    private var wholeFileDone = false
    private var recordIndex = 0
    private var windows: [CalibrationRecord] = []
    private var windowIndex = 0

    public init(paths: [String], options: DataReaderOptions, tokenizer: Tokenizer?) throws(MoESlimError) {
        guard !paths.isEmpty else { throw MoESlimError(.invalidArgument, "no input files") }
        if let seqLen = options.seqLen, seqLen < 1 { throw MoESlimError(.invalidArgument, "--seq-len must be >= 1") }
        if let m = options.maxRecords, m < 0 { throw MoESlimError(.invalidArgument, "--max-records must be >= 0") }
        if let m = options.maxTokens, m < 0 { throw MoESlimError(.invalidArgument, "--max-tokens must be >= 0") }
        if options.maxRecordBytes < 1 { throw MoESlimError(.invalidArgument, "--max-record-bytes must be >= 1") }
        for path in paths where options.format(of: path) == .jsonl && options.wholeFile {
            throw MoESlimError(.invalidArgument, "--whole-file applies to plain text, not JSON Lines", path: path)
        }
        for path in paths where options.format(of: path) == .text && options.groupBy != nil {
            throw MoESlimError(.invalidArgument, "--group-by needs JSON Lines records with fields", path: path)
        }
        self.paths = paths
        self.share = ReadShare(paths: paths)
        self.options = options
        self.tokenizer = tokenizer
        self.template = try options.template.map { text throws(MoESlimError) in try RecordTemplate(text) }
        if let template, paths.contains(where: { options.format(of: $0) == .text }),
            let field = template.fields.first(where: { $0 != "text" })
        {
            throw MoESlimError(.invalidArgument, "--template field '{\(field)}': plain text records only have {text}")
        }
    }

    public func next() throws(MoESlimError) -> CalibrationRecord? {
        while true {
            if let max = options.maxRecords, emittedRecords >= max { return nil }
            if let max = options.maxTokens, emittedTokens >= max { return nil }
            if windowIndex < windows.count {
                var record = windows[windowIndex]
                windowIndex += 1
                if let max = options.maxTokens, emittedTokens + record.tokens.count > max {
                    record.tokens.removeLast(emittedTokens + record.tokens.count - max)
                }
                emittedRecords += 1
                emittedTokens += record.tokens.count
                return record
            }
            guard let (raw, path, line, format) = try nextRaw() else { return nil }
            let r = recordIndex
            recordIndex += 1
            guard r % options.shardCount == options.shardIndex else { continue }
            let parsed: Result<([Int32], String?), RecordFailure>
            switch raw {
            case .bytes(let bytes): parsed = parse(bytes, format: format)
            case .overLimit: parsed = .failure(options.overLimit)
            }
            switch parsed {
            case .success(let (tokens, group)):
                windows = split(CalibrationRecord(tokens: tokens, group: group, path: path, line: line))
                windowIndex = 0
            case .failure(let failure):
                if options.skipBad {
                    skippedLines += 1
                    continue
                }
                throw MoESlimError(.invalidData, "line \(line): \(failure.reason)", path: path)
            }
        }
    }

    /// The share of the input bytes read so far, so progress can show an ETA without counting the records
    /// first; nil when the inputs are empty.
    public var fractionRead: Double? { share.fraction(finishedFiles: fileIndex, consumed: lines?.consumed ?? 0) }

    private func split(_ record: CalibrationRecord) -> [CalibrationRecord] {
        guard let n = options.seqLen else { return [record] }
        return stride(from: 0, to: record.tokens.count, by: n).map { start in
            var window = record
            window.tokens = Array(record.tokens[start..<min(start + n, record.tokens.count)])
            return window
        }
    }

    /// The next non-empty line (or whole file) across all inputs, or the news that it was over the limit.
    private func nextRaw() throws(MoESlimError) -> (LineReader.Line, String, Int, DataReaderOptions.Format)? {
        while fileIndex < paths.count {
            let path = paths[fileIndex]
            let format = options.format(of: path)
            if options.wholeFile {
                if !wholeFileDone {
                    wholeFileDone = true
                    guard let bytes = try ByteStream.readAll(path, kind: .data, limit: options.maxRecordBytes) else {
                        return (.overLimit, path, 1, format)
                    }
                    if !bytes.isEmpty { return (.bytes(bytes[...]), path, 1, format) }
                }
            } else {
                if lines == nil { lines = try LineReader(path: path, kind: .data, limit: options.maxRecordBytes) }
                while let line = try lines!.next() {
                    if case .bytes(let bytes) = line, bytes.isEmpty { continue }
                    return (line, path, lines!.lineNumber, format)
                }
            }
            lines = nil
            wholeFileDone = false
            fileIndex += 1
        }
        return nil
    }

    private func parse(
        _ bytes: ArraySlice<UInt8>, format: DataReaderOptions.Format
    ) -> Result<([Int32], String?), RecordFailure> {
        if format == .jsonl { return parseJSON(bytes) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            return .failure(RecordFailure("not valid UTF-8"))
        }
        var utf8 = Array(bytes)
        if let template {
            switch template.render({ $0 == "text" ? Array(text.utf8) : nil }) {
            case .success(let rendered): utf8 = rendered
            case .failure(let failure): return .failure(failure)
            }
        }
        return tokenize(utf8).map { ($0, nil) }
    }

    private func parseJSON(_ bytes: ArraySlice<UInt8>) -> Result<([Int32], String?), RecordFailure> {
        let document: JSONCDocument
        switch bytes.withUnsafeBytes({ JSONCDocument.parse($0) }) {
        case .success(let parsed): document = parsed
        case .failure(let failure): return .failure(RecordFailure("invalid JSON: \(failure)"))
        }
        let root = document.root
        guard root.isObject else { return .failure(RecordFailure("a JSON Lines record must be an object")) }
        var group: String?
        if let field = options.groupBy {
            guard let value = Self.fieldText(root, field) else {
                return .failure(RecordFailure("no string field '\(field)' for --group-by"))
            }
            group = String(decoding: value, as: UTF8.self)
        }
        if let ids = root["input_ids"] {
            guard let items = ids.array else { return .failure(RecordFailure("'input_ids' must be an array")) }
            var tokens: [Int32] = []
            tokens.reserveCapacity(items.count)
            for item in items {
                guard let id = item.int, id >= 0, id <= Int(Int32.max) else {
                    return .failure(RecordFailure("'input_ids' must hold non-negative integers"))
                }
                tokens.append(Int32(id))
            }
            return .success((tokens, group))
        }
        let text: [UInt8]
        if let template {
            switch template.render({ Self.fieldText(root, $0) }) {
            case .success(let rendered): text = rendered
            case .failure(let failure): return .failure(failure)
            }
        } else {
            guard let value = root[options.textField]?.bytes else {
                return .failure(RecordFailure("no string field '\(options.textField)'"))
            }
            text = value
        }
        return tokenize(text).map { ($0, group) }
    }

    private func tokenize(_ text: [UInt8]) -> Result<[Int32], RecordFailure> {
        guard let tokenizer else {
            return .failure(RecordFailure("text record needs a tokenizer (--tokenizer)"))
        }
        do {
            return .success(try tokenizer.encode(bytes: text))
        } catch {
            return .failure(RecordFailure(error.description))
        }
    }

    /// Strings as they are, integers as decimal text; other JSON types are not substituted.
    private static func fieldText(_ root: JSONCNode, _ name: String) -> [UInt8]? {
        guard let node = root[name] else { return nil }
        if let bytes = node.bytes { return bytes }
        if let value = node.int { return Array(String(value).utf8) }
        return nil
    }
}
