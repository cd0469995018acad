import ArgumentParser
import MoESlimSupport
import MoESlimText

/// Options that decide how input files become records, shared by every command that reads data so that
/// `tokenize` shows exactly the ids `calibrate` and `eval` will use.
struct DataOptions: ParsableArguments {
    @Option(help: "Input format: auto (.jsonl/.ndjson/.json are JSON Lines, anything else text), text or jsonl.")
    var format: DataReaderOptions.Format = .auto

    @Flag(help: "Plain text: each file is one record instead of one record per line.")
    var wholeFile = false

    @Option(help: "JSON Lines field holding the text.")
    var textField: String = "text"

    @Option(help: "Build the text from record fields, e.g. '[INST] {question} [/INST]'; '{{' and '}}' are braces.")
    var template: String?

    @Option(help: "Tag each record with the value of this JSON Lines field.")
    var groupBy: String?

    @Option(help: "Stop after this many records.")
    var maxRecords: Int?

    @Option(help: "Stop after this many tokens (the last record is cut to fit).")
    var maxTokens: Int?

    @Option(help: "Split records longer than this many tokens into windows of this size.")
    var seqLen: Int?

    @Option(help: "Only records i, i+n, i+2n, … of the input (i/n, counting from 0).")
    var shard: String?

    @Option(help: ArgumentHelp("Longest record (line, or file with --whole-file) read into memory, in bytes or e.g. 64MiB; a longer one is malformed.", valueName: "size"))
    var maxRecordBytes = ByteSize(InputLimits.defaultRecordBytes)

    @Flag(help: "Skip and count malformed lines instead of stopping at the first one.")
    var skipBad = false

    func validate() throws {
        if let seqLen, seqLen < 1 { throw ValidationError("--seq-len must be at least 1") }
        if let maxRecords, maxRecords < 0 { throw ValidationError("--max-records must not be negative") }
        if let maxTokens, maxTokens < 0 { throw ValidationError("--max-tokens must not be negative") }
    }

    func readerOptions() throws(MoESlimError) -> DataReaderOptions {
        var options = DataReaderOptions()
        options.format = format
        options.wholeFile = wholeFile
        options.textField = textField
        options.template = template
        options.groupBy = groupBy
        options.maxRecords = maxRecords
        options.maxTokens = maxTokens
        options.seqLen = seqLen
        options.maxRecordBytes = maxRecordBytes.bytes
        options.skipBad = skipBad
        if let shard { try options.setShard(shard) }
        return options
    }
}
