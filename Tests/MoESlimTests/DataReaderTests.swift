import Foundation
import XCTest

@testable import MoESlimSupport
@testable import MoESlimText

/// Record readers: every expected id list comes from Hugging Face `tokenizers` (fixtures/gen_tokenizers.py)
/// or is the input's own `input_ids`.
final class DataReaderTests: XCTestCase {
    static let folder = TokenizerGoldenTests.folder
    static let mixtral = "\(folder)/mixtral-metaspace.json.zst"

    private func readAll(_ paths: [String], _ options: DataReaderOptions, tokenizer: Tokenizer? = nil) throws
        -> (records: [CalibrationRecord], reader: RecordReader)
    {
        let reader = try RecordReader(paths: paths, options: options, tokenizer: tokenizer)
        var records: [CalibrationRecord] = []
        while let record = try reader.next() { records.append(record) }
        return (records, reader)
    }

    private func goldenIDs(_ name: String) throws -> [[Int32]] {
        try TokenizerGoldenTests.jsonLines("\(Self.folder)/\(name)").map { $0.root.array!.map { Int32($0.int!) } }
    }

    private func write(_ text: String, _ name: String) throws -> String {
        let path = try Fixtures.scratch() + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testCompressedJSONLinesMatchGolden() throws {
        let (records, _) = try readAll(
            ["\(Self.folder)/corpus.jsonl.zst"], DataReaderOptions(), tokenizer: try Tokenizer(path: Self.mixtral))
        let golden = try goldenIDs("mixtral-metaspace.golden.jsonl.zst")
        XCTAssertEqual(records.count, golden.count)
        XCTAssertEqual(records.map(\.tokens), golden)
        XCTAssertEqual(records[9].line, 10)
    }

    func testTemplateWithFieldsAndGroups() throws {
        var options = DataReaderOptions()
        options.template = "[INST] {question} [/INST] {{{subject}}} #{n}"
        options.groupBy = "subject"
        let (records, _) = try readAll(
            ["\(Self.folder)/data-records.jsonl"], options, tokenizer: try Tokenizer(path: Self.mixtral))
        XCTAssertEqual(records.map(\.tokens), try goldenIDs("data-template.golden.jsonl"))
        XCTAssertEqual(records.map(\.group), ["math", "french", "geography", "code", "physics", "math"])
    }

    func testWholeFileTextIsOneRecord() throws {
        var options = DataReaderOptions()
        options.wholeFile = true
        let (records, _) = try readAll(
            ["\(Self.folder)/data-whole.txt"], options, tokenizer: try Tokenizer(path: Self.mixtral))
        XCTAssertEqual(records.map(\.tokens), try goldenIDs("data-whole.golden.jsonl"))
    }

    func testTextLinesDropCarriageReturnAndBlankLines() throws {
        let corpus = try TokenizerGoldenTests.jsonLines("\(Self.folder)/corpus.jsonl.zst")
        let golden = try goldenIDs("mixtral-metaspace.golden.jsonl.zst")
        var text = ""
        var expected: [[Int32]] = []
        for (document, ids) in zip(corpus, golden).prefix(400) {
            let line = document.root["text"]!.string!
            if line.isEmpty || line.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) { continue }
            text += line + (expected.count % 2 == 0 ? "\r\n" : "\n\n")
            expected.append(ids)
        }
        let path = try write(text, "lines.txt")
        let (records, _) = try readAll([path], DataReaderOptions(), tokenizer: try Tokenizer(path: Self.mixtral))
        XCTAssertGreaterThan(expected.count, 100)
        XCTAssertEqual(records.map(\.tokens), expected)
    }

    func testPreTokenizedShardWindowsAndLimits() throws {
        let lines = (0..<10).map { r in "{\"input_ids\": [\((0..<(r + 1)).map { String(r * 100 + $0) }.joined(separator: ","))], \"task\": \"t\(r % 2)\"}" }
        let path = try write(lines.joined(separator: "\n"), "ids.jsonl")

        var options = DataReaderOptions()
        try options.setShard("1/3")
        options.groupBy = "task"
        var (records, _) = try readAll([path], options)
        XCTAssertEqual(records.map(\.tokens), [[100, 101], [400, 401, 402, 403, 404], [700, 701, 702, 703, 704, 705, 706, 707]])
        XCTAssertEqual(records.map(\.group), ["t1", "t0", "t1"])
        XCTAssertEqual(records.map(\.line), [2, 5, 8])

        options = DataReaderOptions()
        options.seqLen = 3
        options.maxRecords = 4
        (records, _) = try readAll([path], options)
        XCTAssertEqual(records.map(\.tokens), [[0], [100, 101], [200, 201, 202], [300, 301, 302]])

        options = DataReaderOptions()
        options.maxTokens = 8
        (records, _) = try readAll([path, path], options)
        XCTAssertEqual(records.map(\.tokens), [[0], [100, 101], [200, 201, 202], [300, 301]])
    }

    func testMalformedLineNamesFileAndLine() throws {
        let path = try write("{\"input_ids\": [1, 2]}\n\n{\"input_ids\": [3,]}\n{\"text\": 5}\n{\"input_ids\": [-1]}\n{\"input_ids\": [4]}\n", "bad.jsonl")
        XCTAssertThrowsError(try readAll([path], DataReaderOptions())) { error in
            let e = error as! MoESlimError
            XCTAssertEqual(e.code, .invalidData)
            XCTAssertEqual(e.path, path)
            XCTAssertTrue(e.message.hasPrefix("line 3: invalid JSON"), e.message)
        }
        var options = DataReaderOptions()
        options.skipBad = true
        let (records, reader) = try readAll([path], options)
        XCTAssertEqual(records.map(\.tokens), [[1, 2], [4]])
        XCTAssertEqual(reader.skippedLines, 3)
    }

    func testTextNeedsTokenizerAndInvalidUTF8IsReported() throws {
        let path = try Fixtures.scratch() + "/bytes.txt"
        _ = FileManager.default.createFile(atPath: path, contents: Data([0x61, 0x0A, 0xFF, 0xFE, 0x0A]))
        XCTAssertThrowsError(try readAll([path], DataReaderOptions())) { error in
            XCTAssertEqual((error as! MoESlimError).message, "line 1: text record needs a tokenizer (--tokenizer)")
        }
        XCTAssertThrowsError(try readAll([path], DataReaderOptions(), tokenizer: try Tokenizer(path: Self.mixtral))) { error in
            XCTAssertEqual((error as! MoESlimError).message, "line 2: not valid UTF-8")
        }
    }

    func testTruncatedZstdIsAnError() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(Self.folder)/corpus.jsonl.zst"))
        let path = try Fixtures.scratch() + "/cut.jsonl.zst"
        _ = FileManager.default.createFile(atPath: path, contents: bytes.prefix(bytes.count / 2))
        XCTAssertThrowsError(try readAll([path], DataReaderOptions(), tokenizer: try Tokenizer(path: Self.mixtral))) { error in
            XCTAssertEqual((error as! MoESlimError).code, .invalidData)
        }
    }

    func testBadOptionsAreRefused() throws {
        var options = DataReaderOptions()
        XCTAssertThrowsError(try options.setShard("3/3"))
        XCTAssertThrowsError(try options.setShard("x"))
        options.template = "{text"
        XCTAssertThrowsError(try RecordReader(paths: ["a.txt"], options: options, tokenizer: nil))
        options = DataReaderOptions()
        options.groupBy = "subject"
        XCTAssertThrowsError(try RecordReader(paths: ["a.txt"], options: options, tokenizer: nil))
    }
}
