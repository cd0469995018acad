import XCTest

/// What a careless command line must not do: overwrite the input through --plan-out, delete a folder that is
/// not a checkpoint with --force, land inside the input through a link, or ship unpruned weights.
final class PruneSafetyTests: XCTestCase {
    func copyOfMixtral() throws -> String {
        let dir = try Fixtures.scratch() + "/in"
        try FileManager.default.copyItem(atPath: Fixtures.model("mixtral"), toPath: dir)
        return dir
    }

    func testPlanOutCannotOverwriteTheInput() throws {
        let input = try copyOfMixtral()
        let before = try Data(contentsOf: URL(fileURLWithPath: input + "/config.json"))
        let result = try CommandRunner.run(["prune", input, "--plan", input + "/plan.json", "--dry-run", "--plan-out", input + "/config.json"])
        XCTAssertEqual(result.status, 64)
        XCTAssertEqual(result.stderr, "moe-slim: error: \(input)/config.json: --plan-out would write over or inside the input \(input)\n")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: input + "/config.json")), before)
    }

    func testForceDoesNotReplaceAFolderThatIsNotACheckpoint() throws {
        let dir = try Fixtures.scratch()
        try FileManager.default.createDirectory(atPath: dir + "/precious", withIntermediateDirectories: true)
        try "x".write(toFile: dir + "/precious/thesis.txt", atomically: true, encoding: .utf8)
        let result = try CommandRunner.run(["prune", Fixtures.model("mixtral"), dir + "/precious", "--plan", Fixtures.model("mixtral") + "/plan.json", "--force"])
        XCTAssertEqual(result.status, 73)
        XCTAssertEqual(result.stderr, "moe-slim: error: \(dir)/precious: holds 'thesis.txt', which is not part of a checkpoint; refusing to replace the folder even with --force\n")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/precious/thesis.txt"))
    }

    func testOutputInsideTheInputThroughALinkIsRefused() throws {
        let input = try copyOfMixtral()
        let link = FileManager.default.temporaryDirectory.appendingPathComponent("moe-slim-link-\(UUID().uuidString)").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: input)
        defer { try? FileManager.default.removeItem(atPath: link) }
        let result = try CommandRunner.run(["prune", input, link + "/out", "--plan", input + "/plan.json"])
        XCTAssertEqual(result.status, 64, result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: input + "/out"))
    }

    func testWeightsInOtherFormatsAreNotCopied() throws {
        let input = try copyOfMixtral()
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: input + "/consolidated.00.pt"))
        let out = try Fixtures.scratch() + "/out"
        let result = try CommandRunner.run(["prune", input, out, "--plan", input + "/plan.json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("not copied, they hold the unpruned weights in another format: consolidated.00.pt"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/consolidated.00.pt"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/generation_config.json"))
    }

    func testOutputShapeMustMatchTheInputs() throws {
        let dir = try Fixtures.scratch()
        let result = try CommandRunner.run(["prune", Fixtures.model("mixtral"), dir + "/out.safetensors", "--plan", Fixtures.model("mixtral") + "/plan.json"])
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.stderr.contains("the input is a model folder, so the output must be a folder"), result.stderr)
        let single = try CommandRunner.run(["prune", Fixtures.model("mixtral") + "/model.safetensors", dir + "/f/out.safetensors", "--plan", Fixtures.model("mixtral") + "/plan.json", "--max-shard-size", "10KB"])
        XCTAssertNotEqual(single.status, 0)
    }

    func testSigmoidGroupRoutingNeedsTwoExpertsPerGroup() throws {
        let dir = try Fixtures.scratch()
        try #"{"layers": {"1": [0, 4], "2": [1, 5]}}"#.write(toFile: dir + "/p.json", atomically: true, encoding: .utf8)
        let result = try CommandRunner.run(["prune", Fixtures.model("deepseek_v3"), dir + "/out", "--plan", dir + "/p.json", "--top-k", "1"])
        XCTAssertEqual(result.status, 65)
        XCTAssertTrue(result.stderr.contains("every group needs at least 2"), result.stderr)
    }
}
