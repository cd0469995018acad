import XCTest
@testable import MoESlimFormats
@testable import MoESlimSlimming

/// total_params and bytes must be what transformers counts (fixtures/gen_models.py records them).
final class ReportGoldenTests: XCTestCase {
    /// Every registered model type, and the sharded bf16 variant gen_models.py also writes.
    func testTotalsMatchTransformers() {
        forEachGolden(RegisteredFamilies.modelTypes + ["mixtral-bf16-sharded"]) { family in
            let path = Fixtures.model(family)
            let golden = try Fixtures.json(path + "/golden.json")
            let report = try SizeReport(Checkpoint(path: path), context: 128)
            XCTAssertEqual(report.totalParams, golden["total_params"] as? Int, family)
            XCTAssertEqual(report.bytes, golden["bytes"] as? Int, family)
        }
    }

    func testActiveParamsCountOnlyTopKOfEachLayersExperts() throws {
        let report = try SizeReport(Checkpoint(path: Fixtures.model("mixtral")), context: 128)
        let experts = report.rows.first { $0.component == .moeFeedForward }!
        XCTAssertEqual(experts.params, 2 * 4 * 3 * 16 * 8)
        XCTAssertEqual(experts.activeParams, 2 * 2 * 3 * 16 * 8)
        XCTAssertEqual(report.activeParams, report.totalParams - 2 * 2 * 3 * 16 * 8)
    }
}

/// `--top-k` and `--compare` as users call them, with the numbers worked out by hand for the mixtral fixture:
/// 2 MoE layers × 4 experts × 3 matrices of 16 × 8.
final class ReportCommandTests: XCTestCase {
    func testTopKHalvesExpertFlopsAndCompareReportsReductions() throws {
        let pruned = try Fixtures.scratch() + "/pruned"
        let prune = try CommandRunner.run(["prune", Fixtures.model("mixtral"), pruned, "--plan", Fixtures.model("mixtral") + "/plan.json"])
        XCTAssertEqual(prune.status, 0, prune.stderr)
        let result = try CommandRunner.run(["report", Fixtures.model("mixtral"), "--top-k", "1", "--compare", pruned, "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        let base = json["base"] as! [String: Any]
        let experts = (base["components"] as! [[String: Any]]).first { $0["name"] as? String == "moe_feedforward" }!
        XCTAssertEqual(experts["params"] as? Int, 2 * 4 * 3 * 16 * 8)
        XCTAssertEqual(experts["active_params"] as? Int, 2 * 1 * 3 * 16 * 8)
        XCTAssertEqual(experts["flops_per_token"] as? Int, 2 * 2 * 1 * 3 * 16 * 8)
        let reduction = json["reduction_percent"] as! [String: Any]
        XCTAssertEqual(reduction["bytes"] as! Double, 100.0 * Double(2 * 3 * 16 * 8 + 2 * 16) * 4 / 27456, accuracy: 1e-3)
    }
}
