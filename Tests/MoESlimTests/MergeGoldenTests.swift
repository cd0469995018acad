import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimFamilies
@testable import MoESlimEngine
@testable import MoESlimSlimming

/// `prune --merge` must produce, byte for byte, the tensors fixtures/gen_merge.py computed with numpy from the
/// same plan and hard counts (that script also loaded them in transformers with no missing or unexpected keys).
final class MergeGoldenTests: XCTestCase {
    static func folder(_ name: String) -> String { Fixtures.root.appendingPathComponent("merge/\(name)").path }

    /// Counts without `output_sketch` merge by router rows, counts with it by output similarity (the default
    /// each time), and the config records which.
    func testMergedTensorsEqualTheIndependentMerge() throws {
        let cases = [("mixtral-bf16-sharded", "mixtral-bf16-sharded", "router"), ("gpt_oss", "gpt_oss", "router"),
                     ("mixtral-bf16-sharded-output", "mixtral-bf16-sharded", "output")]
        for (model, input, similarity) in cases {
            let out = try Fixtures.scratch() + "/out"
            let result = try CommandRunner.run([
                "prune", Fixtures.model(input), out, "--plan", Self.folder(model) + "/plan.json",
                "--counts", Self.folder(model) + "/counts.json", "--merge",
            ])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertTrue(result.stderr.contains("moe-slim: note: merging by \(similarity) similarity"), result.stderr)
            try assertMerged(out, equals: model, similarity: similarity)
        }
    }

    /// `--merge-similarity router` on the counts that have sketches gives the router merge of the same hard counts
    /// and plan (the sketches were drawn so that the two disagree on every removed expert).
    func testMergeSimilarityChoosesWhatIsCompared() throws {
        let out = try Fixtures.scratch() + "/out"
        let result = try CommandRunner.run([
            "prune", Fixtures.model("mixtral-bf16-sharded"), out, "--plan", Self.folder("mixtral-bf16-sharded-output") + "/plan.json",
            "--counts", Self.folder("mixtral-bf16-sharded-output") + "/counts.json", "--merge", "--merge-similarity", "router",
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        try assertMerged(out, equals: "mixtral-bf16-sharded", similarity: "router")
        let router = try Fixtures.json(Self.folder("mixtral-bf16-sharded") + "/expected.json")["merged_experts"] as? [String: [String: [Int]]]
        let output = try Fixtures.json(Self.folder("mixtral-bf16-sharded-output") + "/expected.json")["merged_experts"] as? [String: [String: [Int]]]
        XCTAssertNotEqual(router, output, "the fixture's two similarities must group differently")
    }

    func testOutputSimilarityWithoutSketchesIsRefused() throws {
        let dir = try Fixtures.scratch()
        let model = "mixtral-bf16-sharded"
        let result = try CommandRunner.run([
            "prune", Fixtures.model(model), dir + "/out", "--plan", Self.folder(model) + "/plan.json",
            "--counts", Self.folder(model) + "/counts.json", "--merge", "--merge-similarity", "output",
        ])
        XCTAssertEqual(result.status, 65, result.stderr)
        XCTAssertTrue(result.stderr.contains("counts.json: the counts have no output_sketch (written by an older calibrate)"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out"))
        let flagAlone = try CommandRunner.run([
            "prune", Fixtures.model(model), dir + "/out", "--plan", Self.folder(model) + "/plan.json", "--merge-similarity", "router",
        ])
        XCTAssertEqual(flagAlone.status, 64)
        XCTAssertTrue(flagAlone.stderr.contains("--merge-similarity chooses how --merge groups experts; give --merge"), flagAlone.stderr)
    }

    func testOutputRowsAreEachExpertsSketchAndTheDefaultNeedsThemInEveryLayer() throws {
        let width = OutputSketch.width
        var layer = ExpertCounts.Layer(layer: 0, experts: 2)
        XCTAssertEqual(layer.sums[.outputSketch].count, 2 * width)
        layer.sums[.outputSketch] = (0..<(2 * width)).map { Double($0 < width ? 1 : -$0) }
        let rows = try ExpertMerge.outputRows(layer, path: "c.json")
        XCTAssertEqual(rows, [[Double](repeating: 1, count: width), (width..<(2 * width)).map { -Double($0) }])
        let counts = try ExpertCounts.load(Self.folder("mixtral-bf16-sharded-output") + "/counts.json")
        XCTAssertEqual(ExpertMerge.defaultSimilarity(counts), .output)
        var older = counts
        older.layers[1].sums[.outputSketch] = []
        XCTAssertEqual(ExpertMerge.defaultSimilarity(older), .router)
        layer.sums[.outputSketch] = []
        XCTAssertThrowsError(try ExpertMerge.outputRows(layer, path: "c.json"))
    }

    private func assertMerged(_ out: String, equals model: String, similarity: String) throws {
        let got = try Checkpoint(path: out)
        let expected = try Checkpoint(path: Self.folder("\(model)-merged") + "/model.safetensors")
        XCTAssertEqual(Set(got.names), Set(expected.names), model)
        for name in expected.names {
            guard let a = got.info(name), let b = expected.info(name) else { continue }
            XCTAssertEqual(a.shape, b.shape, "\(model) \(name)")
            XCTAssertEqual(a.dtype, b.dtype, "\(model) \(name)")
            XCTAssertTrue(got.bytes(of: name)!.elementsEqual(expected.bytes(of: name)!), "\(model) \(name) bytes differ")
        }
        let config = try Fixtures.json(out + "/config.json")
        let reference = try Fixtures.json(Self.folder("\(model)-merged") + "/config.json")
        XCTAssertEqual(config["num_local_experts"] as? Int, reference["num_local_experts"] as? Int, model)
        let record = config["moe_slim"] as? [String: Any]
        let groups = try Fixtures.json(Self.folder(model) + "/expected.json")["merged_experts"] as? [String: [String: [Int]]]
        XCTAssertEqual(record?["merged_experts"] as? [String: [String: [Int]]], groups, model)
        XCTAssertEqual(record?["merge_similarity"] as? String, similarity, model)
    }

    func testMergeChangesOnlyTheExpertsThatAbsorbedOthers() throws {
        // Layer 0 of the mixtral case: kept expert 2 absorbed nothing, so it is the input's bytes renamed.
        let input = try Checkpoint(path: Fixtures.model("mixtral-bf16-sharded"))
        let expected = try Checkpoint(path: Self.folder("mixtral-bf16-sharded-merged") + "/model.safetensors")
        let name = "model.layers.0.block_sparse_moe.experts.%d.w1.weight"
        XCTAssertTrue(expected.bytes(of: String(format: name, 1))!.elementsEqual(input.bytes(of: String(format: name, 2))!))
        XCTAssertFalse(expected.bytes(of: String(format: name, 0))!.elementsEqual(input.bytes(of: String(format: name, 0))!))
    }

    func testGroupWeightsAreHardCountsAndAnUnroutedGroupKeepsItsExpert() {
        let routed = ExpertMerge.group([0, 2, 3], keptExpert: 2, hard: [1, 9, 3, 0])
        XCTAssertEqual(routed.coefficients, [0.25, 0.75, 0])
        let unrouted = ExpertMerge.group([1, 3], keptExpert: 3, hard: [4, 0, 4, 0])
        XCTAssertEqual(unrouted.coefficients, [0, 1])
    }

    func testMostSimilarIsTheHighestCosineWithTiesToTheLowestKeptId() {
        XCTAssertEqual(ExpertMerge.mostSimilar([1, 0], among: [[0, 1], [2, 0.1], [1, 0]]), 2)
        XCTAssertEqual(ExpertMerge.mostSimilar([1, 1], among: [[1, 0], [0, 1]]), 0)
        XCTAssertEqual(ExpertMerge.mostSimilar([0, 0], among: [[1, 0], [0, 1]]), 0)
        // Direction, not size: a long row pointing elsewhere loses to a short one pointing the same way.
        XCTAssertEqual(ExpertMerge.mostSimilar([1, 0], among: [[10, 10], [0.1, 0]]), 1)
    }

    func testMergeWithoutCountsIsRefused() throws {
        let dir = try Fixtures.scratch()
        let result = try CommandRunner.run(["prune", Fixtures.model("mixtral"), dir + "/out", "--plan", Fixtures.model("mixtral") + "/plan.json", "--merge"])
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.stderr.contains("--merge weights experts by their hard counts; give --counts"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out"))
    }

    func testCountsOfAnotherModelAreRefusedBeforeWriting() throws {
        let dir = try Fixtures.scratch()
        let result = try CommandRunner.run([
            "prune", Fixtures.model("mixtral"), dir + "/out", "--plan", Fixtures.model("mixtral") + "/plan.json",
            "--counts", Self.folder("gpt_oss") + "/counts.json", "--merge",
        ])
        XCTAssertEqual(result.status, 65)
        XCTAssertTrue(result.stderr.hasPrefix("moe-slim: error: \(Self.folder("gpt_oss"))/counts.json: counts were made on another model (fingerprint gpt_oss/"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out"))
    }

    func testQuantizedExpertsAreRefusedWithTheTensorNamed() throws {
        let dir = try Fixtures.scratch()
        let model = Fixtures.model("gpt_oss-mxfp4")
        let counts = try String(contentsOfFile: Self.folder("gpt_oss") + "/counts.json", encoding: .utf8)
        let config = try Fixtures.json(model + "/config.json")
        let want = "gpt_oss/L\(config["num_hidden_layers"]!)/H\(config["hidden_size"]!)/V\(config["vocab_size"]!)/E[0:4,1:4]"
        XCTAssertTrue(counts.contains(want), "the gpt_oss fixtures share a shape")
        let result = try CommandRunner.run([
            "prune", model, dir + "/out", "--plan", Self.folder("gpt_oss") + "/plan.json",
            "--counts", Self.folder("gpt_oss") + "/counts.json", "--merge",
        ])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("--merge averages F32, BF16 and F16 expert weights, not "), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out"))
    }
}
