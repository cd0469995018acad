import XCTest
@testable import MoESlim

/// total_params and bytes must be what transformers counts (fixtures/gen_models.py records them).
final class ReportGoldenTests: XCTestCase {
    static let families = ["mixtral", "qwen2_moe", "qwen3_moe", "olmoe", "deepseek_v3", "gpt_oss", "granitemoe", "mixtral-bf16-sharded"]

    func testTotalsMatchTransformers() throws {
        for family in Self.families {
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
