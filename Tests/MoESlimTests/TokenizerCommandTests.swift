import Foundation
import ArgumentParser
import XCTest

@testable import moe_slim

/// `moe-slim tokenize` through its command type, standard output redirected to a file.
final class TokenizerCommandTests: XCTestCase {
    private func run(_ arguments: [String]) throws -> String {
        let path = try Fixtures.scratch() + "/stdout"
        let file = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
        let saved = dup(1)
        dup2(file, 1)
        defer {
            dup2(saved, 1)
            close(saved)
            close(file)
        }
        try TokenizeCommand.parse(arguments).run()
        return try String(contentsOfFile: path, encoding: .utf8)
    }

    func testPrintsGoldenIDsAsJSONLines() throws {
        let folder = TokenizerGoldenTests.folder
        let output = try run([
            "--tokenizer", "\(folder)/mixtral-metaspace.json.zst", "\(folder)/data-records.jsonl",
            "--template", "[INST] {question} [/INST] {{{subject}}} #{n}", "--group-by", "subject", "--max-records", "2",
        ])
        let golden = try String(contentsOfFile: "\(folder)/data-template.golden.jsonl", encoding: .utf8)
            .split(separator: "\n").prefix(2)
        let expected = zip(golden, ["math", "french"]).map { "{\"input_ids\": \($0), \"group\": \"\($1)\"}\n" }
        XCTAssertEqual(output, expected.joined())
    }

    func testMalformedInputFailsWithDataExitCode() throws {
        let path = try Fixtures.scratch() + "/bad.jsonl"
        try "{\"input_ids\": [1]}\nnot json\n".write(toFile: path, atomically: true, encoding: .utf8)
        let tokenizer = "\(TokenizerGoldenTests.folder)/mixtral-metaspace.json.zst"
        XCTAssertThrowsError(try run(["--tokenizer", tokenizer, path])) { error in
            XCTAssertEqual((error as? ExitCode)?.rawValue, 65)
        }
        XCTAssertEqual(try run(["--tokenizer", tokenizer, path, "--skip-bad"]), "{\"input_ids\": [1]}\n")
        XCTAssertThrowsError(try TokenizeCommand.parse(["--tokenizer", tokenizer, path, "--format", "csv"]))
    }
}
