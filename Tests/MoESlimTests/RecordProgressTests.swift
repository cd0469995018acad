import XCTest
@testable import MoESlimText

/// The share of input read, which gives calibrate, eval and sweep an ETA without counting records first:
/// exactly the bytes the reader has pulled from the file (1 MiB reads), over the total size of all inputs.
final class RecordProgressTests: XCTestCase {
    func testFractionReadFollowsTheBytesReadAcrossFiles() throws {
        let dir = try Fixtures.scratch()
        let line = "{\"input_ids\": [1, 2, 3]}\n"
        let first = String(repeating: line, count: 100_000)
        try first.write(toFile: dir + "/a.jsonl", atomically: true, encoding: .utf8)
        try line.write(toFile: dir + "/b.jsonl", atomically: true, encoding: .utf8)
        let total = Double(first.utf8.count + line.utf8.count)
        let reader = try RecordReader(paths: [dir + "/a.jsonl", dir + "/b.jsonl"], options: DataReaderOptions(), tokenizer: nil)
        XCTAssertEqual(reader.fractionRead, 0)
        _ = try reader.next()
        XCTAssertEqual(reader.fractionRead!, Double(1 << 20) / total, accuracy: 1e-12)
        while try reader.next() != nil {}
        XCTAssertEqual(reader.fractionRead, 1)
    }

    func testChoiceReaderFractionReadFollowsTheBytesReadAcrossFiles() throws {
        let dir = try Fixtures.scratch()
        let padding = String(repeating: "x", count: 2000)
        let line = "{\"pad\": \"\(padding)\", \"question\": \"Two and two?\", \"choices\": [\" four\", \" five\"], \"answer\": 0}\n"
        let first = String(repeating: line, count: 600)
        try first.write(toFile: dir + "/a.jsonl", atomically: true, encoding: .utf8)
        try line.write(toFile: dir + "/b.jsonl", atomically: true, encoding: .utf8)
        let total = Double(first.utf8.count + line.utf8.count)
        let tokenizer = try Tokenizer(path: Fixtures.root.appendingPathComponent("tiny-mixtral/tokenizer.json").path)
        let fields = ChoiceRecordReader.Fields(prompt: "question", choices: "choices", answer: "answer")
        let reader = try ChoiceRecordReader(paths: [dir + "/a.jsonl", dir + "/b.jsonl"], options: DataReaderOptions(), fields: fields, tokenizer: tokenizer)
        XCTAssertEqual(reader.fractionRead, 0)
        _ = try reader.next()
        XCTAssertEqual(reader.fractionRead!, Double(1 << 20) / total, accuracy: 1e-12)
        while try reader.next() != nil {}
        XCTAssertEqual(reader.fractionRead, 1)
    }
}
