import XCTest

/// eval and sweep count the tokens first, as calibrate does (ProgressTests): on a pipe an opening line with the
/// total, lines with a percentage below 100 and an ETA, and a closing line with the totals.
final class EvalProgressTests: XCTestCase {
    let model = SweepFixture.model
    let calib = SweepFixture.calib
    let questions = SweepFixture.questions

    func testEvalPerplexity() throws {
        try expectETA(["eval", model, "--data", calib], label: "eval")
    }

    func testEvalAgainst() throws {
        try expectETA(["eval", model, "--against", model, "--data", calib], label: "eval")
    }

    func testEvalChoice() throws {
        try expectETA(["eval", model, "--data", questions, "--task", "choice", "--choices-field", "options", "--answer-field", "label"], label: "eval")
    }

    func testSweep() throws {
        let f = try SweepFixture()
        try expectETA(["sweep", model, "--plan", f.plan, "--data", calib], label: "sweep")
    }

    private func expectETA(_ arguments: [String], label: String, line: UInt = #line) throws {
        let r = try CommandRunner.run(arguments)
        XCTAssertEqual(r.status, 0, r.stderr, line: line)
        let progress = r.stderr.split(separator: "\n").filter { $0.hasPrefix("\(label): ") }
        XCTAssertGreaterThanOrEqual(progress.count, 3, r.stderr, line: line)
        XCTAssertTrue(progress.first!.hasSuffix(" tokens to run (counted)"), r.stderr, line: line)
        XCTAssertTrue(progress.dropFirst().dropLast().allSatisfy { $0.contains("% (") && $0.contains(", ETA ") && !$0.contains("100%") }, r.stderr, line: line)
        XCTAssertTrue(progress.last!.hasPrefix("\(label): done, "), r.stderr, line: line)
    }
}
