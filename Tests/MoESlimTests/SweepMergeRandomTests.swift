import XCTest

/// `sweep --merge` evaluates exactly the checkpoint `prune --merge` writes; `--random` adds the documented
/// random plans; every perplexity carries its standard error.
final class SweepMergeRandomTests: XCTestCase {
    func testMergedRowIsThePruneMergeCheckpointAndRandomRowsFollowTheSeed() throws {
        let fixture = try SweepFixture()
        let sweep = try SweepFixture.json([
            "sweep", SweepFixture.model, "--counts", fixture.counts, "--data", SweepFixture.calib, "--sparsity", "0.5",
            "--random", "1", "--merge",
        ])
        let rows = try XCTUnwrap(sweep["rows"] as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["criterion"] as? String }, ["-", "hard", "hard", "random"])
        XCTAssertEqual(rows[2]["merged"] as? Bool, true)
        XCTAssertEqual(rows[3]["seed"] as? Int, 0)
        for row in rows { XCTAssertGreaterThan(row["perplexity_se"] as? Double ?? 0, 0) }

        let merged = fixture.folder + "/merged"
        let prune = try CommandRunner.run(["prune", SweepFixture.model, merged, "--counts", fixture.counts, "--sparsity", "0.5", "--merge"])
        XCTAssertEqual(prune.status, 0, prune.stderr)
        let eval = try SweepFixture.json(["eval", SweepFixture.model, "--against", merged, "--data", SweepFixture.calib])
        XCTAssertEqual(rows[2]["kl"] as? Double, eval["kl"] as? Double)
        XCTAssertEqual(rows[2]["perplexity"] as? Double, eval["against_perplexity"] as? Double)
        XCTAssertNotEqual(rows[2]["kl"] as? Double, rows[1]["kl"] as? Double, "merging should change the model")
    }

    func testTableShowsTheStandardErrorAndLabelsRows() throws {
        let fixture = try SweepFixture()
        let r = try CommandRunner.run([
            "sweep", SweepFixture.model, "--counts", fixture.counts, "--data", SweepFixture.calib, "--sparsity", "0.5",
            "--random", "1", "--merge",
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        XCTAssertEqual(lines[1], ["sparsity", "strategy", "criterion", "bytes", "FLOPs/token", "perplexity", "±", "s.e.", "KL", "vs", "base", "top-1", "agree"])
        XCTAssertEqual(lines[2...].map { $0[2] }, ["-", "hard", "hard+merge", "random(0)"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter { $0.contains("moe-slim-merge") }, [],
                       "the merged scratch checkpoints are gone")
    }
}
