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
        // --top-k above a layer's experts: every measured plan would route to experts the layer does not have (on a
        // model pruned per layer the forward pass indexed out of range), and the written plan is one prune refuses.
        XCTAssertThrowsError(try search(keepTotal: 8, topK: 5)) {
            XCTAssertEqual(($0 as? MoESlimError)?.description, "--top-k 5 is more than the 4 experts of MoE layer 0")
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

/// The evolutionary search on a made-up separable KL whose best budget is known (for a convex cost per layer the
/// marginal greedy allocation is optimal), and the command end to end.
final class BudgetEvolutionTests: XCTestCase {
    /// Twelve layers of eight experts, top-2; losing experts costs layer i (i + 1) × (removed)².
    private let lower = Array(repeating: 2, count: 12)
    private let upper = Array(repeating: 8, count: 12)
    private func kl(_ b: [Int]) -> Double {
        b.indices.reduce(0) { $0 + Double($1 + 1) * Double((8 - b[$1]) * (8 - b[$1])) }
    }

    private func optimum(total: Int) -> Double {
        var b = upper
        for _ in 0..<(upper.reduce(0, +) - total) {
            let open = b.indices.filter { b[$0] > lower[$0] }
            let cheapest = open.min { a, c in
                var x = b, y = b
                x[a] -= 1
                y[c] -= 1
                return kl(x) < kl(y)
            }!
            b[cheapest] -= 1
        }
        return kl(b)
    }

    private func run(_ settings: BudgetEvolution.Settings, total: Int = 48) throws -> (best: [Int], kl: Double, generations: [BudgetEvolution.Generation], calls: Int, measured: Int) {
        let evolution = BudgetEvolution(lower: lower, upper: upper, total: total, settings: settings)
        var calls = 0, measured = 0
        let found = try evolution.run { budgets throws(MoESlimError) in
            calls += 1
            measured += budgets.count
            for b in budgets {
                XCTAssertEqual(b.reduce(0, +), total)
                XCTAssertTrue(b.indices.allSatisfy { b[$0] >= 2 && b[$0] <= 8 }, "\(b)")
            }
            return budgets.map(kl)
        }
        return (found.best, found.kl, found.generations, calls, measured)
    }

    func testProportionalBudgetSharesTheRoomByLargestRemainder() {
        XCTAssertEqual(BudgetEvolution(lower: lower, upper: upper, total: 48, settings: .init()).proportional, Array(repeating: 4, count: 12))
        XCTAssertEqual(BudgetEvolution(lower: [1, 2, 1], upper: [4, 8, 4], total: 9, settings: .init()).proportional, [2, 5, 2])
        XCTAssertEqual(BudgetEvolution(lower: [2, 2], upper: [4, 4], total: 5, settings: .init()).proportional, [3, 2])
    }

    func testSearchImprovesOnTheStartWithinItsBudgetOfRuns() throws {
        let settings = BudgetEvolution.Settings(population: 16, generations: 40, seed: 7)
        let found = try run(settings)
        XCTAssertEqual(found.calls, 41, "one batch per generation and one for the first")
        XCTAssertLessThanOrEqual(found.measured, settings.maximumEvaluations)
        XCTAssertEqual(found.kl, kl(found.best))
        let start = kl(Array(repeating: 4, count: 12))
        XCTAssertEqual(found.generations[0].kl, found.generations.map(\.kl).max())
        XCTAssertTrue(zip(found.generations, found.generations.dropFirst()).allSatisfy { $1.kl <= $0.kl }, "elitism keeps the best")
        // The best budget of 48 costs 929 against 1248 for the uniform start, and the search finds it.
        XCTAssertEqual(optimum(total: 48), 929)
        XCTAssertEqual(start, 1248)
        XCTAssertEqual(found.kl, 929, "\(found.best)")
        // More sensitive layers (higher index) keep more experts.
        XCTAssertLessThan(found.best.prefix(4).reduce(0, +), found.best.suffix(4).reduce(0, +))
    }

    func testTheSameSeedGivesTheSameBudgetAndGenerationZeroOnlyMeasuresTheStart() throws {
        let settings = BudgetEvolution.Settings(population: 8, generations: 5, seed: 3)
        let a = try run(settings), b = try run(settings)
        XCTAssertEqual(a.best, b.best)
        XCTAssertEqual(a.generations, b.generations)
        let none = try run(BudgetEvolution.Settings(population: 1, generations: 0, seed: 3))
        XCTAssertEqual(none.best, Array(repeating: 4, count: 12))
        XCTAssertEqual(none.measured, 1)
    }

    func testEveryLayerAtItsBoundLeavesOneBudget() throws {
        let found = try run(BudgetEvolution.Settings(population: 6, generations: 3, seed: 1), total: 96)
        XCTAssertEqual(found.best, upper)
        XCTAssertEqual(found.measured, 1)
    }

    func testCommandWritesTheEvolvedPlanWithTheKLSweepMeasures() throws {
        let dir = try Fixtures.scratch()
        let fixture = try SweepFixture()
        let r = try CommandRunner.run([
            "plan", "search", SweepFixture.model, "--counts", fixture.counts, "--data", SweepFixture.calib,
            "--keep-total", "10", "--method", "evolutionary", "--population", "4", "--generations", "2", "--seed", "5",
            "-o", dir + "/plan.json",
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("evolutionary search: at most 10 runs over the data"), r.stdout)
        XCTAssertTrue(r.stdout.contains("generation 2: best KL"), r.stdout)
        let plan = try PruningPlan.load(dir + "/plan.json")
        XCTAssertEqual(plan.kept.values.reduce(0) { $0 + $1.count }, 10)
        let sweep = try SweepFixture.json(["sweep", SweepFixture.model, "--plan", dir + "/plan.json", "--data", SweepFixture.calib])
        let kl = try XCTUnwrap((sweep["rows"] as? [[String: Any]])?[1]["kl"] as? Double)
        XCTAssertTrue(r.stdout.contains(String(format: "KL %.6f nats/token", kl)), r.stdout)
        let bad = try CommandRunner.run([
            "plan", "search", SweepFixture.model, "--counts", fixture.counts, "--data", SweepFixture.calib,
            "--keep-total", "10", "--method", "evolutionary", "--population", "1", "-o", dir + "/p.json",
        ])
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.stderr.contains("--population must be between 2 and 1024"), bad.stderr)
    }
}
