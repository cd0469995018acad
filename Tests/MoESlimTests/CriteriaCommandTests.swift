import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimFamilies
@testable import MoESlimEngine
@testable import MoESlimSlimming

/// `prune` with the criteria that need no counts, and super experts from a calibrated counts file, through the
/// built executable.
final class CriteriaCommandTests: XCTestCase {
    /// AIMER on MXFP4 and bf16 experts, without --counts: the plan keeps each layer's lowest golden scores (the FP8
    /// fixture's groups of two cannot lose an expert; CriteriaGoldenTests scores it).
    func testAimerPrunesWithoutCounts() throws {
        for (name, keep) in [("gpt_oss-mxfp4", 3), ("mixtral-bf16", 3)] {
            let dir = try Fixtures.scratch()
            let result = try CommandRunner.run(["prune", EngineGolden.folder(name), "--criterion", "aimer", "--keep", "\(keep)",
                                                "--dry-run", "--plan-out", dir + "/plan.json"])
            XCTAssertEqual(result.status, 0, "\(name): \(result.stderr)")
            let checkpoint = try Checkpoint(path: EngineGolden.folder(name))
            let model = try ModelFamilies.describe(checkpoint)
            let plan = try PruningPlan.load(dir + "/plan.json", for: model, topK: nil)
            let golden = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: EngineGolden.folder(name) + "/statistics.json"))) as! [String: Any]
            let aimer = golden["aimer"] as! [String: [Double]]
            let groups = max(model.routing.groups ?? 1, 1)
            for layer in model.moeLayers {
                let expected = try ExpertSelection.best(keep, of: aimer[String(layer.layer)]!.map { -$0 }, groups: groups, layer: layer.layer)
                XCTAssertEqual(plan.kept[layer.layer], expected, "\(name) layer \(layer.layer)")
            }
        }
    }

    func testRandomPlanFollowsTheSeed() throws {
        let result = try CommandRunner.run(["prune", Fixtures.model("mixtral"), "--criterion", "random", "--seed", "7", "--keep", "2", "--dry-run"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("layer 0: 2/4  [0 1]") && result.stdout.contains("layer 1: 2/4  [1 3]"), result.stdout)
    }

    func testCountsCriteriaStillNeedCounts() throws {
        let result = try CommandRunner.run(["prune", Fixtures.model("mixtral"), "--criterion", "reap", "--keep", "2", "--dry-run"])
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.stderr.contains("give --counts (with --keep or --sparsity), --criterion aimer or random, or --plan"), result.stderr)
        let superless = try CommandRunner.run(["prune", Fixtures.model("mixtral"), "--criterion", "random", "--keep", "2", "--dry-run", "--keep-super-experts"])
        XCTAssertEqual(superless.status, 64)
        XCTAssertTrue(superless.stderr.contains("--keep-super-experts finds them in --counts"), superless.stderr)
    }

    /// calibrate writes max_abs_output; counts show lists the super experts REAP's rule finds, and prune keeps
    /// them (with a threshold of 0 every expert of the first layer is super, so that layer keeps its lowest ids).
    func testSuperExpertsFromCalibratedCounts() throws {
        let name = "mixtral"
        let golden = try EngineGolden.load(name)
        let dir = try Fixtures.scratch()
        let lines = golden.sequences.map { "{\"input_ids\": [\($0.inputIds.map(String.init).joined(separator: ", "))]}" }
        try (lines.joined(separator: "\n") + "\n").write(toFile: dir + "/data.jsonl", atomically: true, encoding: .utf8)
        let calibrate = try CommandRunner.run(["calibrate", EngineGolden.folder(name), "--data", dir + "/data.jsonl", "-o", dir + "/c.json"])
        XCTAssertEqual(calibrate.status, 0, calibrate.stderr)
        let counts = try ExpertCounts.load(dir + "/c.json")
        let found = try SuperExperts(counts: counts, rule: .init(), path: dir + "/c.json")
        let show = try CommandRunner.run(["counts", "show", dir + "/c.json"])
        XCTAssertEqual(show.status, 0, show.stderr)
        XCTAssertTrue(show.stdout.contains(found.lines.joined(separator: "\n")), show.stdout)
        XCTAssertTrue(show.stdout.contains("in the first MoE layer): \(found.experts.count)"), show.stdout)
        let prune = try CommandRunner.run(["prune", EngineGolden.folder(name), "--counts", dir + "/c.json", "--criterion", "hard",
                                           "--keep", "2", "--keep-super-experts", "--super-threshold", "0", "--dry-run"])
        XCTAssertEqual(prune.status, 0, prune.stderr)
        XCTAssertTrue(prune.stdout.contains("layer 0: 2/6  [0 1]"), prune.stdout)
        XCTAssertTrue(prune.stderr.contains("super experts (max |expert output| above 0, in the first MoE layer): 6"), prune.stderr)
    }
}
