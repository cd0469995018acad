import XCTest

/// `sweep --plan FILE`: a plan written by `prune --plan-out` is evaluated as one more row, equal to the row the
/// same plan gets from --sparsity and to eval against the checkpoint prune wrote for it.
final class SweepPlanFileTests: XCTestCase {
    let model = SweepFixture.model
    let calib = SweepFixture.calib

    func testPlanFileRowEqualsItsSparsityRowAndThePrunedCheckpoint() throws {
        let f = try SweepFixture()
        let fromCounts = try SweepFixture.json(["sweep", model, "--counts", f.counts, "--sparsity", "0.25", "--data", calib])
        let fromFile = try SweepFixture.json(["sweep", model, "--plan", f.plan, "--data", calib])
        XCTAssertNil(fromFile["counts"], "no counts were given")
        let sparsityRow = (fromCounts["rows"] as! [[String: Any]])[1]
        let planRow = (fromFile["rows"] as! [[String: Any]])[1]
        XCTAssertEqual(planRow["strategy"] as? String, "plan")
        XCTAssertEqual(planRow["plan"] as? String, f.plan)
        XCTAssertEqual(planRow["sparsity"] as? Double, 0.25, "2 of 8 experts removed in both layers")
        for key in ["bytes", "tokens"] { XCTAssertEqual(planRow[key] as? Int, sparsityRow[key] as? Int, key) }
        for key in ["flops_per_token", "perplexity", "kl", "top1_agreement"] {
            XCTAssertEqual(planRow[key] as! Double, sparsityRow[key] as! Double, accuracy: 1e-12, key)
        }

        let eval = try SweepFixture.json(["eval", model, "--against", f.pruned, "--data", calib])
        XCTAssertEqual(planRow["perplexity"] as! Double, eval["against_perplexity"] as! Double, accuracy: (eval["against_perplexity"] as! Double) * 1e-5)
        XCTAssertEqual(planRow["kl"] as! Double, eval["kl"] as! Double, accuracy: 1e-6)
        XCTAssertEqual(planRow["top1_agreement"] as? Double, eval["top1_agreement"] as? Double)
    }

    func testPlanFilesStandBesideTheCountsRowsAndAreNamedInTheTable() throws {
        let f = try SweepFixture()
        let r = try CommandRunner.run([
            "sweep", model, "--counts", f.counts, "--sparsity", "0.5", "--plan", f.plan, "--data", calib, "--max-records", "3",
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].hasPrefix("\(model): 2 plans from \(f.counts) and 1 plan file, "), lines[0])
        XCTAssertEqual(words(lines[1]), "sparsity strategy criterion plan bytes FLOPs/token perplexity ± s.e. KL vs base top-1 agree")
        XCTAssertTrue(words(lines[2]).hasPrefix("0.000 base - - "), lines[2])
        XCTAssertTrue(words(lines[3]).hasPrefix("0.500 layer hard - "), lines[3])
        XCTAssertTrue(words(lines[4]).hasPrefix("0.250 plan - \(f.plan) "), lines[4])
        XCTAssertEqual(lines.count, 5, r.stdout)
    }

    func testTopKOverridesThePlanFileAsInPrune() throws {
        let f = try SweepFixture()
        let fromCounts = try SweepFixture.json(["sweep", model, "--counts", f.counts, "--sparsity", "0.25", "--top-k", "1", "--data", calib, "--max-records", "3"])
        let fromFile = try SweepFixture.json(["sweep", model, "--plan", f.plan, "--top-k", "1", "--data", calib, "--max-records", "3"])
        let sparsityRow = (fromCounts["rows"] as! [[String: Any]])[1]
        let planRow = (fromFile["rows"] as! [[String: Any]])[1]
        XCTAssertEqual(planRow["flops_per_token"] as! Double, sparsityRow["flops_per_token"] as! Double, accuracy: 1e-12)
        XCTAssertEqual(planRow["kl"] as! Double, sparsityRow["kl"] as! Double, accuracy: 1e-12)
    }

    func testAPlanForOtherLayersIsRefusedNamingTheFile() throws {
        let dir = try Fixtures.scratch()
        try #"{"layers": {"5": [0, 1, 2]}}"#.write(toFile: dir + "/layers.json", atomically: true, encoding: .utf8)
        let r = try CommandRunner.run(["sweep", model, "--plan", dir + "/layers.json", "--data", calib])
        XCTAssertEqual(r.status, 65)
        XCTAssertEqual(r.stdout, "")
        XCTAssertTrue(r.stderr.contains("moe-slim: error: \(dir)/layers.json: layer 5 is not an MoE layer (MoE layers: 0, 1)"), r.stderr)
    }

    func testAPlanForMoreExpertsIsRefusedNamingTheFile() throws {
        let f = try SweepFixture()
        try #"{"layers": {"1": [0, 2, 8]}}"#.write(toFile: f.folder + "/experts.json", atomically: true, encoding: .utf8)
        let r = try CommandRunner.run(["sweep", model, "--counts", f.counts, "--plan", f.plan, "--plan", f.folder + "/experts.json", "--data", calib])
        XCTAssertEqual(r.status, 65)
        XCTAssertEqual(r.stdout, "")
        XCTAssertTrue(r.stderr.contains("moe-slim: error: \(f.folder)/experts.json: layer 1: expert 8 is out of range (0..<8)"), r.stderr)
    }

    func testCountOptionsWithoutCountsAreRefused() throws {
        let plan = Fixtures.model("mixtral") + "/plan.json"
        let r = try CommandRunner.run(["sweep", model, "--plan", plan, "--sparsity", "0.25", "--data", calib])
        XCTAssertEqual(r.status, 64)
        XCTAssertTrue(r.stderr.contains("--sparsity, --strategy, --criterion, --random and --merge choose experts from counts; give --counts"), r.stderr)
        let none = try CommandRunner.run(["sweep", model, "--data", calib])
        XCTAssertEqual(none.status, 64)
        XCTAssertTrue(none.stderr.contains("give --counts, --plan FILE, or both"), none.stderr)
    }

    private func words(_ line: String) -> String { line.split(separator: " ").joined(separator: " ") }
}
