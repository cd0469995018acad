import Foundation
import XCTest

/// fixtures/tiny-mixtral with counts from its calib.txt and the 0.25-sparsity plan that `prune --plan-out`
/// writes beside the pruned checkpoint, so sweep rows can be checked against a real pruned model.
struct SweepFixture {
    static let model = Fixtures.root.appendingPathComponent("tiny-mixtral").path
    static let calib = model + "/calib.txt"
    static let questions = Fixtures.root.appendingPathComponent("eval/choice-text.jsonl").path

    let folder: String
    var counts: String { folder + "/counts.json" }
    var plan: String { folder + "/plan.json" }
    var pruned: String { folder + "/pruned" }

    init() throws {
        folder = try Fixtures.scratch()
        let c = try CommandRunner.run(["calibrate", Self.model, "--data", Self.calib, "-o", counts])
        XCTAssertEqual(c.status, 0, c.stderr)
        let p = try CommandRunner.run(["prune", Self.model, pruned, "--counts", counts, "--sparsity", "0.25", "--plan-out", plan])
        XCTAssertEqual(p.status, 0, p.stderr)
    }

    /// Runs a command that prints JSON and returns the parsed object.
    static func json(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let r = try CommandRunner.run(arguments + ["--json"])
        XCTAssertEqual(r.status, 0, r.stderr, file: file, line: line)
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    }
}
