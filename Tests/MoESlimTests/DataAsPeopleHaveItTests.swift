import Foundation
import XCTest

/// Data files as they are downloaded: JSON arrays, gzip, Parquet and Arrow, JSON Lines under a .txt name, a
/// wrong --text-field, records longer than the context; each through the built executable with its exact message.
final class DataAsPeopleHaveItTests: XCTestCase {
    let tokenizer = Fixtures.root.appendingPathComponent("tiny-mixtral/tokenizer.json").path
    let model = Fixtures.root.appendingPathComponent("tiny-mixtral").path
    let records = "{\"text\": \"hello world\"}\n{\"text\": \"second one, with ] and } and \\\"quotes\\\"\"}\n"

    private func tokenize(_ files: [String], _ extra: [String] = []) throws -> CommandRunner.Result {
        try CommandRunner.run(["tokenize", "--tokenizer", tokenizer] + extra + files)
    }

    private func write(_ text: String, _ name: String, in dir: String) throws -> String {
        let path = dir + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// gzip(1) writes the .gz files, so the test needs no zlib of its own.
    private func gzip(_ path: String) throws -> String {
        let r = try CommandRunner.run(program: URL(fileURLWithPath: "/usr/bin/gzip"), ["-kf", path])
        XCTAssertEqual(r.status, 0, r.stderr)
        return path + ".gz"
    }

    func testJSONArrayGivesTheSameRecordsAsJSONLines() throws {
        let dir = try Fixtures.scratch()
        let lines = try tokenize([try write(records, "data.jsonl", in: dir)])
        XCTAssertEqual(lines.status, 0, lines.stderr)
        let array = "[\n  {\"text\": \"hello world\"},\n  {\"text\": \"second one, with ] and } and \\\"quotes\\\"\"}\n]\n"
        let fromArray = try tokenize([try write(array, "data.json", in: dir)])
        XCTAssertEqual(fromArray.status, 0, fromArray.stderr)
        XCTAssertEqual(fromArray.stdout, lines.stdout)
        XCTAssertEqual(lines.stdout.split(separator: "\n").count, 2)
    }

    func testJSONArrayErrorsNameTheLineTheElementStartsOn() throws {
        let dir = try Fixtures.scratch()
        let notClosed = try tokenize([try write("[{\"text\": \"a\"},\n {\"text\": \"b\"}", "open.json", in: dir)])
        XCTAssertEqual(notClosed.status, 65)
        XCTAssertEqual(notClosed.stderr, "moe-slim: error: \(dir)/open.json: line 2: the JSON array is not closed\n")
        let wrong = try tokenize([try write("[{\"text\": \"a\"},\n {\"content\": \"b\", \"id\": 7}]", "wrong.json", in: dir)])
        XCTAssertEqual(wrong.stderr, "moe-slim: error: \(dir)/wrong.json: line 2: no string field 'text'; the record's fields are 'content' (string), 'id' (number) (--text-field or --template picks the text)\n")
        let long = try tokenize([try write("[{\"text\": \"\(String(repeating: "a", count: 100))\"}, {\"text\": \"b\"}]", "long.json", in: dir)], ["--max-record-bytes", "50", "--skip-bad"])
        XCTAssertEqual(long.status, 0, long.stderr)
        XCTAssertEqual(long.stdout.split(separator: "\n").count, 1)
    }

    func testGzipIsReadLikeThePlainFileAndMembersFollowOneAnother() throws {
        let dir = try Fixtures.scratch()
        let plain = try tokenize([try write(records, "data.jsonl", in: dir)])
        let gz = try gzip(dir + "/data.jsonl")
        let fromGzip = try tokenize([gz])
        XCTAssertEqual(fromGzip.status, 0, fromGzip.stderr)
        XCTAssertEqual(fromGzip.stdout, plain.stdout)
        // `cat a.gz b.gz` is one stream to gzip -d, and to moe-slim.
        let twice = try Data(contentsOf: URL(fileURLWithPath: gz)) + Data(contentsOf: URL(fileURLWithPath: gz))
        try twice.write(to: URL(fileURLWithPath: dir + "/twice.jsonl.gz"))
        let fromTwice = try tokenize([dir + "/twice.jsonl.gz"])
        XCTAssertEqual(fromTwice.stdout, plain.stdout + plain.stdout, fromTwice.stderr)
    }

    func testTruncatedAndMislabelledGzipAreRefused() throws {
        let dir = try Fixtures.scratch()
        let gz = try gzip(try write(String(repeating: records, count: 50), "data.jsonl", in: dir))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: gz))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: dir + "/cut.jsonl.gz"))
        let cut = try tokenize([dir + "/cut.jsonl.gz"])
        XCTAssertEqual(cut.status, 65)
        XCTAssertTrue(cut.stderr.hasSuffix("moe-slim: error: \(dir)/cut.jsonl.gz: truncated gzip stream\n"), cut.stderr)
        try bytes.write(to: URL(fileURLWithPath: dir + "/hidden.jsonl"))
        let hidden = try tokenize([dir + "/hidden.jsonl"])
        XCTAssertEqual(hidden.stderr, "moe-slim: error: \(dir)/hidden.jsonl: is gzip-compressed but its name does not end in .gz; rename it to end in .gz\n")
    }

    /// 256 MiB of zeros without a newline is a 250 KiB .gz: stopped at the record limit, in bounded memory.
    func testGzipBombIsStoppedAtTheRecordLimit() throws {
        let dir = try Fixtures.scratch()
        let bomb = dir + "/bomb.txt.gz"
        let r = try CommandRunner.run(program: URL(fileURLWithPath: "/bin/sh"), ["-c", "head -c 268435456 /dev/zero | gzip -1 > '\(bomb)'"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let run = try MeasuredRun.run(["tokenize", "--tokenizer", tokenizer, bomb, "--max-record-bytes", "1MiB"])
        XCTAssertEqual(run.status, 65)
        XCTAssertEqual(run.stderr, "moe-slim: error: \(bomb): line 1: record is over 1048576 bytes, the --max-record-bytes limit\n")
        XCTAssertLessThan(run.peakKiB, MeasuredRun.bound(mebibytes: 128))
    }

    func testParquetAndArrowSayHowToConvert() throws {
        let dir = try Fixtures.scratch()
        let parquet = try tokenize([try write("PAR1 and the rest", "train-00000.parquet", in: dir)])
        XCTAssertEqual(parquet.status, 65)
        XCTAssertEqual(parquet.stderr, """
            moe-slim: error: \(dir)/train-00000.parquet: is a Parquet file, which moe-slim does not read; convert it to JSON Lines first: \
            duckdb -c "COPY (FROM '\(dir)/train-00000.parquet') TO '\(dir)/train-00000.jsonl' (FORMAT json)", or \
            python -c "import datasets; datasets.Dataset.from_parquet('\(dir)/train-00000.parquet').to_json('\(dir)/train-00000.jsonl')"

            """)
        // By content too, whatever the name.
        let renamed = try tokenize([try write("PAR1 and the rest", "data.jsonl", in: dir)])
        XCTAssertTrue(renamed.stderr.contains("is a Parquet file, which moe-slim does not read; convert it to JSON Lines first: duckdb -c \"COPY (FROM '\(dir)/data.jsonl') TO '\(dir)/data.converted.jsonl' (FORMAT json)\""), renamed.stderr)
        let arrow = try tokenize([try write("\u{FF}", "data-00000-of-00001.arrow", in: dir)])
        XCTAssertEqual(arrow.stderr, """
            moe-slim: error: \(dir)/data-00000-of-00001.arrow: is an Arrow file, which moe-slim does not read; convert it to JSON Lines first: \
            python -c "import datasets; datasets.Dataset.from_file('\(dir)/data-00000-of-00001.arrow').to_json('\(dir)/data-00000-of-00001.jsonl')"

            """)
    }

    func testJSONLinesNamedTxtIsRefusedUnlessTheFormatIsGiven() throws {
        let dir = try Fixtures.scratch()
        let txt = try write(records, "data.txt", in: dir)
        let refused = try tokenize([txt])
        XCTAssertEqual(refused.status, 65)
        XCTAssertEqual(refused.stderr, "moe-slim: error: \(txt): starts with a JSON object (JSON Lines) but its name makes it plain text, whose every brace and quote would be tokenized and counted; rename it to .jsonl (or .json), or give --format jsonl; --format text reads it as text anyway\n")
        let asJSON = try tokenize([txt], ["--format", "jsonl"])
        let asText = try tokenize([txt], ["--format", "text"])
        XCTAssertEqual(asJSON.status, 0, asJSON.stderr)
        XCTAssertEqual(asText.status, 0, asText.stderr)
        XCTAssertNotEqual(asJSON.stdout, asText.stdout)
        // Text that merely starts with a brace is text.
        let prose = try tokenize([try write("{braces} are fine in prose\n", "prose.txt", in: dir)])
        XCTAssertEqual(prose.status, 0, prose.stderr)
    }

    func testRecordsLongerThanTheContextAreCountedInOneWarning() throws {
        let dir = try Fixtures.scratch()
        // The tiny model's context is 512 positions; "a " is one token of the byte-level tokenizer's pieces or more.
        let long = String(repeating: "a b ", count: 400)
        let data = try write("short line\n\(long)\n\(long)\n", "data.txt", in: dir)
        let r = try CommandRunner.run(["calibrate", model, "--data", data, "-o", dir + "/c.json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let warnings = r.stderr.split(separator: "\n").filter { $0.contains("warning") }
        XCTAssertEqual(warnings.count, 1, r.stderr)
        XCTAssertTrue(warnings[0].hasPrefix("moe-slim: warning: 2 records are longer than the model's context (max_position_embeddings 512 in config.json), the longest "), r.stderr)
        XCTAssertTrue(warnings[0].hasSuffix(" tokens; --seq-len 512 cuts records into windows that fit"), r.stderr)
        let cut = try CommandRunner.run(["calibrate", model, "--data", data, "-o", dir + "/c2.json", "--seq-len", "512"])
        XCTAssertFalse(cut.stderr.contains("warning"), cut.stderr)
    }
}

/// One convention across commands: tokenize takes --data as calibrate and eval do (positional files still
/// work), --memory takes 8G, and the parser's own errors read like every other error.
final class ConventionTests: XCTestCase {
    let tokenizer = Fixtures.root.appendingPathComponent("tiny-mixtral/tokenizer.json").path
    let calib = Fixtures.root.appendingPathComponent("tiny-mixtral/calib.txt").path
    let model = Fixtures.root.appendingPathComponent("tiny-mixtral").path

    func testTokenizeTakesDataLikeTheOtherCommands() throws {
        let withData = try CommandRunner.run(["tokenize", "--tokenizer", tokenizer, "--data", calib])
        let positional = try CommandRunner.run(["tokenize", "--tokenizer", tokenizer, calib])
        XCTAssertEqual(withData.status, 0, withData.stderr)
        XCTAssertEqual(withData.stdout, positional.stdout)
        XCTAssertEqual(withData.stdout.split(separator: "\n").count, 13)
        let none = try CommandRunner.run(["tokenize", "--tokenizer", tokenizer])
        XCTAssertEqual(none.status, 64)
        XCTAssertEqual(none.stderr.split(separator: "\n").first, "moe-slim: error: give at least one --data FILE")
    }

    func testParserErrorsUseTheOneErrorStyle() throws {
        let missing = try CommandRunner.run(["inspect"])
        XCTAssertEqual(missing.status, 64)
        XCTAssertEqual(missing.stderr.split(separator: "\n").first, "moe-slim: error: Missing expected argument '<model>'")
        let unknown = try CommandRunner.run(["frobnicate"])
        XCTAssertEqual(unknown.stderr.split(separator: "\n").first, "moe-slim: error: Unexpected argument 'frobnicate'")
        XCTAssertFalse((missing.stderr + unknown.stderr).contains("Error:"))
        let help = try CommandRunner.run(["inspect", "--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.hasPrefix("OVERVIEW: "), help.stdout)
    }

    func testMemoryTakesABareUnitLetter() throws {
        let dir = try Fixtures.scratch()
        let r = try CommandRunner.run(["calibrate", model, "--data", calib, "-o", dir + "/c.json", "--memory", "8G"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let heatmap = try CommandRunner.run(["calibrate", model, "--data", calib, "-o", dir + "/c2.json", "--heatmap", dir + "/c.json"])
        XCTAssertEqual(heatmap.status, 73)
        XCTAssertEqual(heatmap.stderr, "moe-slim: error: \(dir)/c.json: --heatmap already exists (use --force to replace it)\n")
    }
}
