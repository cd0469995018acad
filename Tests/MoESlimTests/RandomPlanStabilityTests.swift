import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimFamilies
@testable import MoESlimSlimming

/// sweep's random rows are the seeded criterion's plans, and the split-half statistics
/// against scipy.stats (spearmanr, kendalltau).
final class RandomPlanStabilityTests: XCTestCase {
    func testSweepRandomRowsAreTheSeededCriterionsPlans() throws {
        let fixture = try SweepFixture()
        let sweep = try SweepFixture.json([
            "sweep", SweepFixture.model, "--counts", fixture.counts, "--data", SweepFixture.calib, "--sparsity", "0.5",
            "--criterion", "random", "--seed", "1", "--random", "2",
        ])
        let rows = try XCTUnwrap(sweep["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["seed"] as? Int }, [nil, nil, 0, 1])
        XCTAssertEqual(rows[3]["kl"] as? Double, rows[1]["kl"] as? Double, "--random's seed 1 is --criterion random --seed 1")
        XCTAssertNotEqual(rows[2]["kl"] as? Double, rows[3]["kl"] as? Double)
    }

    func testRandomPlanBelowTopKIsRefused() throws {
        let model = try ModelFamilies.describe(Checkpoint(path: Fixtures.root.appendingPathComponent("tiny-mixtral").path))
        let selection = ExpertSelection(criterion: .random, strategy: .layer, amount: .keep(1), topK: nil, seed: 0)
        XCTAssertThrowsError(try selection.plan(model: model, counts: nil, weights: nil)) { error in
            XCTAssertEqual((error as? MoESlimError)?.description, "--criterion random: layer 0 keeps 1 experts, fewer than top-k 2")
        }
    }

    func testRankCorrelationsMatchScipy() {
        let a: [Double] = [5, 3, 3, 9, 0, 2, 7, 7], b: [Double] = [4, 3, 1, 9, 0, 3, 6, 8]
        XCTAssertEqual(CountsStability.spearman(a, b), 0.9394111922831736, accuracy: 1e-12)
        XCTAssertEqual(CountsStability.kendall(a, b), 0.8680790595108567, accuracy: 1e-12)
        XCTAssertEqual(CountsStability.spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1, accuracy: 1e-12)
        XCTAssertEqual(CountsStability.kendall([1, 2, 3, 4], [4, 3, 2, 1]), -1, accuracy: 1e-12)
        XCTAssertEqual(CountsStability.ranks([3, 1, 3, 2]), [3.5, 1, 3.5, 2])
    }

    func testKeptAgreementIsJaccardOfTheTopSets() {
        XCTAssertEqual(CountsStability.top(2, [1, 5, 5, 0]), [1, 2])
        XCTAssertEqual(CountsStability.jaccard([0, 1, 2], [1, 2, 3]), 0.5)
    }

    func testStabilityCommandComparesTwoHalves() throws {
        let counts = MergeGoldenTests.folder("gpt_oss") + "/counts.json"
        let result = try CommandRunner.run(["counts", "show", counts, "--stability", counts])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        XCTAssertEqual(lines[0], "split-half stability of the hard ranking: 6 and 6 tokens")
        XCTAssertEqual(lines[1], "layer spearman kendall kept agree @25% kept agree @50%")
        XCTAssertEqual(lines[2], "0 1.000 1.000 1.000 (3) 1.000 (2)")
    }

    func testStabilityOfAnotherModelIsRefused() throws {
        let a = MergeGoldenTests.folder("gpt_oss") + "/counts.json"
        let b = MergeGoldenTests.folder("mixtral-bf16-sharded") + "/counts.json"
        let result = try CommandRunner.run(["counts", "show", a, "--stability", b])
        XCTAssertEqual(result.status, 65)
        XCTAssertTrue(result.stderr.hasPrefix("moe-slim: error: \(b): counts were made on another model than \(a) (fingerprint mixtral/"), result.stderr)
    }

    func testSweepRandomAndMergeNeedCounts() throws {
        let plan = Fixtures.model("mixtral") + "/plan.json"
        for extra in [["--random", "2"], ["--merge"]] {
            let result = try CommandRunner.run(["sweep", Fixtures.model("mixtral"), "--plan", plan, "--data", "x.txt"] + extra)
            XCTAssertEqual(result.status, 64)
            XCTAssertTrue(result.stderr.contains("--sparsity, --strategy, --criterion, --random and --merge choose experts from counts; give --counts"), result.stderr)
        }
        let result = try CommandRunner.run(["sweep", Fixtures.model("mixtral"), "--counts", "c.json", "--random", "1001", "--data", "x.txt"])
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.stderr.contains("--random must be between 0 and 1000 plans per sparsity"), result.stderr)
    }
}
