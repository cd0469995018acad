import XCTest

/// Without --max-tokens, eval and sweep estimate their progress from the share of the input read, as
/// calibrate does: the last progress line (stderr is a pipe here, so one line per chunk) has read it all.
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
        XCTAssertFalse(progress.isEmpty, r.stderr, line: line)
        XCTAssertTrue(progress.allSatisfy { $0.contains("%, ETA ") }, r.stderr, line: line)
        XCTAssertTrue(progress.last!.contains(", 100%, ETA "), r.stderr, line: line)
    }
}
