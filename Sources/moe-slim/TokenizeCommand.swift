import ArgumentParser
import MoESlimSupport
import MoESlimText
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids the model will see, one JSON line {\"input_ids\": [...]} per record.",
        discussion: """
            Ids are those of Hugging Face tokenizers' Tokenizer.from_file(path).encode(text).ids, special \
            tokens of the post-processor included. Components moe-slim does not implement are refused by name \
            (formats/tokenizer.md). Records are read as calibrate reads them (formats/data.md).
            """)

    @Option(help: "tokenizer.json (or tokenizer.json.zst).")
    var tokenizer: String

    @Argument(help: "Input files: plain text, .jsonl (text or input_ids), either compressed as .zst.")
    var files: [String]

    @OptionGroup var data: DataOptions

    func run() throws {
        try failing {
            let reader = try RecordReader(
                paths: files, options: try data.readerOptions(), tokenizer: try Tokenizer(path: tokenizer))
            var output = BufferedStandardOutput()
            while let record = try reader.next() {
                try output.write("{\"input_ids\": [")
                for (i, id) in record.tokens.enumerated() {
                    if i > 0 { try output.write(", ") }
                    try output.write(String(id))
                }
                try output.write("]")
                if let group = record.group {
                    try output.write(", \"group\": ")
                    try output.write(JSONValue.string(group).serialized())
                }
                try output.write("}\n")
            }
            try output.flush()
            if reader.skippedLines > 0 { printError("moe-slim: skipped \(reader.skippedLines) malformed lines") }
        }
    }
}

/// Corpora give millions of lines; one write(2) per megabyte instead of one `print` per line.
private struct BufferedStandardOutput {
    private var buffer: [UInt8] = []

    mutating func write(_ text: String) throws(MoESlimError) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 20 { try flush() }
    }

    mutating func flush() throws(MoESlimError) {
        var offset = 0
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { writeStandardOutput($0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw MoESlimError(.io, "cannot write to standard output", cause: POSIXFailure("write")) }
            offset += n
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

private func writeStandardOutput(_ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(1, bytes, count)
}
