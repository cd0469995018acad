import XCTest

/// The built executable, end to end: what users type and see.
final class PruneCommandTests: XCTestCase {
    func testPruneWithPlanWritesTheExpectedCheckpointAndReport() throws {
        let out = try Fixtures.scratch() + "/pruned"
        let result = try CommandRunner.run(["prune", Fixtures.model("qwen2_moe"), out, "--plan", Fixtures.model("qwen2_moe") + "/plan.json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("layer 0: 4/6  [1 2 4 5]"), result.stdout)
        XCTAssertTrue(result.stdout.contains("MoE Feedforward"), result.stdout)
        let report = try CommandRunner.run(["report", out, "--json"])
        let json = try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(json["experts_per_layer"] as? [String: Int], ["0": 4, "1": 4])
    }

    func testDryRunWritesNothing() throws {
        let out = try Fixtures.scratch() + "/pruned"
        let result = try CommandRunner.run(["prune", Fixtures.model("mixtral"), out, "--plan", Fixtures.model("mixtral") + "/plan.json", "--dry-run"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("layer 1: 3/4  [1 2 3]"), result.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    func testBadPlanIsOneClearErrorWithADataErrorExitCode() throws {
        let dir = try Fixtures.scratch()
        try #"{"layers": {"0": [0, 9]}}"#.write(toFile: dir + "/p.json", atomically: true, encoding: .utf8)
        let result = try CommandRunner.run(["prune", Fixtures.model("mixtral"), dir + "/out", "--plan", dir + "/p.json"])
        XCTAssertEqual(result.status, 65)
        XCTAssertEqual(result.stderr, "moe-slim: error: \(dir)/p.json: layer 0: expert 9 is out of range (0..<4)\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out"))
    }

    func testUnknownModelTypeListsTheKnownOnes() throws {
        let dir = try Fixtures.scratch()
        try FileManager.default.copyItem(atPath: Fixtures.model("mixtral") + "/model.safetensors", toPath: dir + "/model.safetensors")
        try #"{"model_type": "llama"}"#.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        let result = try CommandRunner.run(["inspect", dir])
        XCTAssertEqual(result.status, 69)
        XCTAssertTrue(result.stderr.hasPrefix("moe-slim: error: \(dir)/config.json: model_type 'llama' is not supported; known: afmoe, deepseek_v2, deepseek_v3, "), result.stderr)
    }

    func testSingleFileInputGivesSingleFileOutputWithConfigBeside() throws {
        let dir = try Fixtures.scratch()
        let result = try CommandRunner.run(["prune", Fixtures.model("olmoe") + "/model.safetensors", dir + "/slim.safetensors",
                                            "--plan", Fixtures.model("olmoe") + "/plan.json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let config = try Fixtures.json(dir + "/config.json")
        XCTAssertEqual(config["num_experts"] as? Int, 3)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains("moe-slim-tmp") }
        XCTAssertEqual(leftovers, [])
    }
}
