import MoESlimSupport

/// Where a reader's records come from, one file at a time: lines (LineReader) or the elements of a JSON array
/// (JSONArrayReader).
protocol RecordSource: AnyObject {
    func next() throws(MoESlimError) -> LineReader.Line?
    /// The line the last record started on.
    var lineNumber: Int { get }
    /// Bytes of the file read so far, for progress.
    var consumed: Int { get }
}

extension LineReader: RecordSource {}

/// Opens a data file as people have it, by its content as well as its name: a JSON array is read element by
/// element; a file named as text whose first line is JSON is refused (its braces and quotes would be
/// tokenized as text, and counted, without a word); formats moe-slim does not read (Parquet, Arrow) are
/// refused with the command that converts them.
enum RecordSources {
    /// How far into the (decompressed) data the content is looked at.
    static let sniffBytes = 4096

    static func open(_ path: String, format: DataReaderOptions.Format, options: DataReaderOptions) throws(MoESlimError) -> any RecordSource {
        try refuseUnreadable(path, head: nil)
        let stream = try ByteStream(path: path, kind: .data)
        var head: [UInt8] = []
        while head.count < sniffBytes, try stream.read(appendingTo: &head) {}
        try refuseUnreadable(path, head: head)
        // A byte-order mark is looked past here; lines keep it, as they always have.
        let bom = head.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        let first = head.dropFirst(bom).first { !(" \t\r\n".utf8.contains($0)) }
        if format == .jsonl && first == UInt8(ascii: "[") {
            return JSONArrayReader(stream: stream, buffered: Array(head.dropFirst(bom)), limit: options.maxRecordBytes)
        }
        if format == .text && options.format == .auto, let first, first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
            try refuseJSONAsText(path, head: Array(head.dropFirst(bom)))
        }
        return LineReader(stream: stream, buffered: head, limit: options.maxRecordBytes)
    }

    /// A first line that parses as a JSON object or array, in a file whose name says text.
    private static func refuseJSONAsText(_ path: String, head: [UInt8]) throws(MoESlimError) {
        let line = head.split(separator: 0x0A, maxSplits: 1, omittingEmptySubsequences: true).first ?? []
        guard case .success(let document) = JSONCDocument.parse(Array(line)), document.root.isObject || document.root.isArray else { return }
        let what = document.root.isObject ? "a JSON object (JSON Lines)" : "a JSON array"
        throw MoESlimError(
            .invalidData,
            "starts with \(what) but its name makes it plain text, whose every brace and quote would be tokenized and counted; "
                + "rename it to .jsonl (or .json), or give --format jsonl; --format text reads it as text anyway",
            path: path)
    }

    /// Parquet and Arrow files (how data sets are usually downloaded) and compressed data under a name that
    /// hides it; `head` nil looks at the name only.
    private static func refuseUnreadable(_ path: String, head: [UInt8]?) throws(MoESlimError) {
        let name = path.lowercased()
        let quoted = ShellQuoted.of(path)
        let converted = withoutExtension(path) + ".jsonl"
        let jsonl = ShellQuoted.of(converted == path ? withoutExtension(path) + ".converted.jsonl" : converted)
        let parquet = "is a Parquet file, which moe-slim does not read; convert it to JSON Lines first: "
            + "duckdb -c \"COPY (FROM \(quoted)) TO \(jsonl) (FORMAT json)\", or "
            + "python -c \"import datasets; datasets.Dataset.from_parquet(\(quoted)).to_json(\(jsonl))\""
        let arrow = "is an Arrow file, which moe-slim does not read; convert it to JSON Lines first: "
            + "python -c \"import datasets; datasets.Dataset.from_file(\(quoted)).to_json(\(jsonl))\""
        if let head {
            if head.starts(with: Array("PAR1".utf8)) { throw MoESlimError(.invalidData, parquet, path: path) }
            if head.starts(with: Array("ARROW1".utf8)) || head.starts(with: [0xFF, 0xFF, 0xFF, 0xFF]) {
                throw MoESlimError(.invalidData, arrow, path: path)
            }
            if head.starts(with: [0x1F, 0x8B]) && !name.hasSuffix(".gz") {
                throw MoESlimError(.invalidData, "is gzip-compressed but its name does not end in .gz; rename it to end in .gz", path: path)
            }
            if head.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) && !name.hasSuffix(".zst") {
                throw MoESlimError(.invalidData, "is zstd-compressed but its name does not end in .zst; rename it to end in .zst", path: path)
            }
        } else {
            if name.hasSuffix(".parquet") { throw MoESlimError(.invalidData, parquet, path: path) }
            if name.hasSuffix(".arrow") || name.hasSuffix(".feather") { throw MoESlimError(.invalidData, arrow, path: path) }
        }
    }

    /// `path` without its last extension (and a `.gz` or `.zst` before it), for the converted file's name;
    /// looked at as bytes, as every name is.
    private static func withoutExtension(_ path: String) -> String {
        var bytes = Array(path.utf8)
        for _ in 0..<2 {
            guard let dot = bytes.lastIndex(of: UInt8(ascii: ".")), !bytes[dot...].contains(UInt8(ascii: "/")) else { break }
            let ext = String(decoding: bytes[dot...], as: UTF8.self).lowercased()
            bytes.removeSubrange(dot...)
            if ext != ".gz" && ext != ".zst" { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
