import MoESlimSupport

/// How input files become records; shared by `tokenize`, `calibrate` and `eval` so they read data identically.
public struct DataReaderOptions: Sendable {
    /// `.jsonl` (also `.ndjson`, `.json`) is JSON Lines, anything else plain text; `.zst` is stripped first.
    public enum Format: String, Sendable, CaseIterable {
        case auto, text, jsonl
    }

    public var format: Format = .auto
    /// Plain text only: the whole file is one record instead of one record per line.
    public var wholeFile = false
    public var textField = "text"
    /// Builds the text from record fields: `{name}` is replaced by the field, `{{` and `}}` are literal braces.
    public var template: String?
    public var groupBy: String?
    public var maxRecords: Int?
    public var maxTokens: Int?
    public var seqLen: Int?
    /// The longest record (line, or file with `wholeFile`) kept in memory; a longer one is a malformed record.
    public var maxRecordBytes = InputLimits.defaultRecordBytes
    public var shardIndex = 0
    public var shardCount = 1
    public var skipBad = false

    public init() {}

    /// Parses "i/n" with 0 <= i < n.
    public mutating func setShard(_ text: String) throws(MoESlimError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 0, i < n else {
            throw MoESlimError(.invalidArgument, "--shard must be i/n with 0 <= i < n, got '\(text)'")
        }
        shardIndex = i
        shardCount = n
    }

    /// Why a record over `maxRecordBytes` was not read.
    var overLimit: RecordFailure {
        RecordFailure("record is over \(maxRecordBytes) bytes, the --max-record-bytes limit")
    }

    func format(of path: String) -> Format {
        if format != .auto { return format }
        var name = path.lowercased()
        if name.hasSuffix(".zst") { name.removeLast(4) }
        return [".jsonl", ".ndjson", ".json"].contains(where: name.hasSuffix) ? .jsonl : .text
    }
}
