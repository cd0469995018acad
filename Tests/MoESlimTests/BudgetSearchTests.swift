import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimFamilies
@testable import MoESlimSlimming

/// The greedy budget search with a made-up KL (so the allocation is known), its refusals, and the command end to end.
final class BudgetSearchTests: XCTestCase {
    private func search(keepTotal: Int, topK: Int? = nil) throws -> BudgetSearch {
        let model = try ModelFamilies.describe(Checkpoint(path: Fixtures.model("gpt_oss")))
        let counts = try ExpertCounts.load(MergeGoldenTests.folder("gpt_oss") + "/counts.json")
        return try BudgetSearch(model: model, counts: counts, countsPath: "c.json", criterion: ExpertSelection.Criterion(.hard), keepTotal: keepTotal, topK: topK)
    }

    func testGreedyRemovesWhereTheMeasuredKLRisesLeast() throws {
        // Layer 1 is four times as sensitive as layer 0: the search empties layer 0 down to top-k first.
        let s = try search(keepTotal: 5)
        let found = try s.run { plans throws(MoESlimError) in
            plans.map { p in Double(4 - p.kept[0]!.count) + 4 * Double(4 - p.kept[1]!.count) }
        }
        XCTAssertEqual(found.steps.map(\.layer), [0, 0, 1])
        // hard counts [1, 4, 3, 4] and [4, 5, 0, 3]: the best first, ties to the lower id.
        XCTAssertEqual(found.plan.kept, [0: [1, 3], 1: [0, 1, 3]])
        XCTAssertEqual(found.steps.last?.kl, 6)
    }

    func testUniformPlansRunFromTopKToAllExperts() throws {
        XCTAssertEqual(try search(keepTotal: 4).uniformPlans().map(\.keep), [2, 3, 4])
        XCTAssertEqual(try search(keepTotal: 4).uniformPlans()[0].plan.kept, [0: [1, 3], 1: [0, 1]])
    }

    func testBudgetsOutOfRangeAreRefused() throws {
        XCTAssertThrowsError(try search(keepTotal: 9)) {
            XCTAssertEqual(($0 as? MoESlimError)?.description, "--keep-total 9 is more than the model's 8 routed experts")
        }
        XCTAssertThrowsError(try search(keepTotal: 3)) {
            XCTAssertEqual(($0 as? MoESlimError)?.description, "--keep-total 3 is fewer than top-k experts in every MoE layer (4 in all)")
        }
        XCTAssertThrowsError(try search(keepTotal: 5, topK: 3)) {
            XCTAssertEqual(($0 as? MoESlimError)?.description, "--keep-total 5 is fewer than top-k experts in every MoE layer (6 in all)")
        }
    }

    func testCommandWritesThePlanAndTheNearestUniformPlan() throws {
        let dir = try Fixtures.scratch()
        let fixture = try SweepFixture()
        let r = try CommandRunner.run([
            "plan", "search", SweepFixture.model, "--counts", fixture.counts, "--data", SweepFixture.calib,
            "--keep-total", "10", "-o", dir + "/plan.json", "--uniform-output", dir + "/uniform.json",
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        let plan = try PruningPlan.load(dir + "/plan.json")
        XCTAssertEqual(plan.kept.values.reduce(0) { $0 + $1.count }, 10)
        let uniform = try PruningPlan.load(dir + "/uniform.json")
        XCTAssertEqual(Set(uniform.kept.values.map(\.count)).count, 1)
        XCTAssertTrue(r.stdout.contains("<- nearest"), r.stdout)
        // The plan's own KL is what sweep measures for it.
        let sweep = try SweepFixture.json(["sweep", SweepFixture.model, "--plan", dir + "/plan.json", "--data", SweepFixture.calib])
        let kl = try XCTUnwrap((sweep["rows"] as? [[String: Any]])?[1]["kl"] as? Double)
        XCTAssertTrue(r.stdout.contains(String(format: "KL %.6f nats/token", kl)), r.stdout)
    }

    func testCommandRefusesBadBudgetsBeforeEvaluating() throws {
        let dir = try Fixtures.scratch()
        let fixture = try SweepFixture()
        let r = try CommandRunner.run([
            "plan", "search", SweepFixture.model, "--counts", fixture.counts, "--data", SweepFixture.calib,
            "--keep-total", "17", "-o", dir + "/plan.json",
        ])
        XCTAssertEqual(r.status, 64)
        XCTAssertEqual(r.stderr, "moe-slim: error: --keep-total 17 is more than the model's 16 routed experts\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/plan.json"))
        let zero = try CommandRunner.run(["plan", "search", SweepFixture.model, "--counts", fixture.counts, "--data", "x", "--keep-total", "0", "-o", dir + "/p.json"])
        XCTAssertEqual(zero.status, 64)
        XCTAssertTrue(zero.stderr.contains("--keep-total must be at least 1"), zero.stderr)
    }
}
