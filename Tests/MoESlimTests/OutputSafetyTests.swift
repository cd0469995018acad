import XCTest

/// Nothing lost: --force replaces only what a checkpoint consists of, no output may land on, inside or around
/// an input (links followed), and every output path is checked before the work starts.
final class OutputSafetyTests: XCTestCase {
    private let mixtral = Fixtures.model("mixtral")
    private var plan: String { mixtral + "/plan.json" }

    private func prune(_ output: String, _ extra: [String] = []) throws -> CommandRunner.Result {
        try CommandRunner.run(["prune", mixtral, output, "--plan", plan] + extra)
    }

    func testForceReplacesAPreviousOutputWithItsCompanions() throws {
        let output = try Fixtures.scratch() + "/out"
        XCTAssertEqual(try prune(output).status, 0)
        let again = try prune(output, ["--force"])
        XCTAssertEqual(again.status, 0, again.stderr)
    }

    func testForceKeepsAFolderWithAForeignFile() throws {
        let output = try Fixtures.scratch() + "/out"
        XCTAssertEqual(try prune(output).status, 0)
        try "mine".write(toFile: output + "/notes.txt", atomically: true, encoding: .utf8)
        let result = try prune(output, ["--force"])
        XCTAssertEqual(result.status, 73)
        XCTAssertEqual(result.stderr, "moe-slim: error: \(output): holds 'notes.txt', which is not part of a checkpoint; refusing to replace the folder even with --force\n")
        XCTAssertEqual(try String(contentsOfFile: output + "/notes.txt", encoding: .utf8), "mine")
    }

    func testForceKeepsAFolderWithASubfolder() throws {
        let output = try Fixtures.scratch() + "/out"
        XCTAssertEqual(try prune(output).status, 0)
        try FileManager.default.createDirectory(atPath: output + "/runs", withIntermediateDirectories: false)
        let result = try prune(output, ["--force"])
        XCTAssertEqual(result.stderr, "moe-slim: error: \(output): holds 'runs', which is not part of a checkpoint; refusing to replace the folder even with --force\n")
        XCTAssertTrue(FileManager.default.fileExists(atPath: output + "/runs"))
    }

    func testMergeLoraOutputEqualToTheAdapterIsRefused() throws {
        let dir = try Fixtures.scratch()
        let adapter = dir + "/adapter"
        try FileManager.default.copyItem(atPath: Fixtures.root.path + "/lora/attention/adapter", toPath: adapter)
        let base = Fixtures.root.path + "/lora/bases/mixtral-f32"
        let result = try CommandRunner.run(["merge-lora", base, adapter, "--adapter", adapter, "--force"])
        XCTAssertEqual(result.status, 64)
        XCTAssertEqual(result.stderr, "moe-slim: error: \(adapter): the output would write over or inside the input \(adapter)\n")
        XCTAssertTrue(FileManager.default.fileExists(atPath: adapter + "/adapter_model.safetensors"))
    }

    func testOutputFolderHoldingAnInputIsRefusedThroughALink() throws {
        let dir = try Fixtures.scratch()
        let adapter = dir + "/adapter"
        try FileManager.default.copyItem(atPath: Fixtures.root.path + "/lora/attention/adapter", toPath: adapter)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir)
        let base = Fixtures.root.path + "/lora/bases/mixtral-f32"
        let result = try CommandRunner.run(["merge-lora", base, dir + "/link", "--adapter", adapter, "--force"])
        XCTAssertEqual(result.status, 64)
        XCTAssertEqual(result.stderr, "moe-slim: error: \(dir)/link: the output is a folder that holds the input \(adapter)\n")
    }

    func testCalibrateOutputsMayNotTouchTheData() throws {
        let dir = try Fixtures.scratch()
        let data = dir + "/data.jsonl"
        try "{\"input_ids\": [1, 2, 3]}\n".write(toFile: data, atomically: true, encoding: .utf8)
        let model = EngineGolden.folder("mixtral")
        let overData = try CommandRunner.run(["calibrate", model, "--data", data, "-o", data, "--force"])
        XCTAssertEqual(overData.status, 64)
        XCTAssertEqual(overData.stderr, "moe-slim: error: \(data): -o would write over or inside the input \(data)\n")
        let intoModel = try CommandRunner.run(["calibrate", model, "--data", data, "-o", dir + "/c.json", "--heatmap", model + "/h.svg"])
        XCTAssertEqual(intoModel.stderr, "moe-slim: error: \(model)/h.svg: --heatmap would write over or inside the input \(model)\n")
        let sameTwice = try CommandRunner.run(["calibrate", model, "--data", data, "-o", dir + "/c.json", "--heatmap", dir + "/c.json"])
        XCTAssertEqual(sameTwice.stderr, "moe-slim: error: \(dir)/c.json: --heatmap would write over or inside -o \(dir)/c.json\n")
        XCTAssertEqual(try String(contentsOfFile: data, encoding: .utf8), "{\"input_ids\": [1, 2, 3]}\n")
    }

    /// Each kind of input once: the plan and the counts of prune, the tokenizer of calibrate, the base of
    /// merge-lora. Every file is left as it was.
    func testOutputsEqualToEachKindOfInputAreRefused() throws {
        let dir = try Fixtures.scratch()
        let planCopy = dir + "/plan.json"
        try FileManager.default.copyItem(atPath: plan, toPath: planCopy)
        let overPlan = try CommandRunner.run(["prune", mixtral, dir + "/out", "--plan", planCopy, "--plan-out", planCopy, "--force"])
        XCTAssertEqual(overPlan.status, 64)
        XCTAssertEqual(overPlan.stderr, "moe-slim: error: \(planCopy): --plan-out would write over or inside the input \(planCopy)\n")

        let counts = dir + "/counts.json"
        try "{}".write(toFile: counts, atomically: true, encoding: .utf8)
        let overCounts = try CommandRunner.run(["prune", mixtral, dir + "/out", "--counts", counts, "--keep", "2", "--plan-out", counts, "--force"])
        XCTAssertEqual(overCounts.stderr, "moe-slim: error: \(counts): --plan-out would write over or inside the input \(counts)\n")

        let tokenizer = dir + "/tokenizer.json.zst"
        try FileManager.default.copyItem(atPath: Fixtures.root.path + "/tokenizers/olmoe.json.zst", toPath: tokenizer)
        let data = dir + "/data.jsonl"
        try "{\"input_ids\": [1, 2, 3]}\n".write(toFile: data, atomically: true, encoding: .utf8)
        let overTokenizer = try CommandRunner.run(["calibrate", EngineGolden.folder("mixtral"), "--data", data, "--tokenizer", tokenizer,
                                                   "-o", dir + "/c.json", "--heatmap", tokenizer, "--force"])
        XCTAssertEqual(overTokenizer.stderr, "moe-slim: error: \(tokenizer): --heatmap would write over or inside the input \(tokenizer)\n")

        let base = dir + "/base"
        try FileManager.default.copyItem(atPath: Fixtures.root.path + "/lora/bases/mixtral-f32", toPath: base)
        let overBase = try CommandRunner.run(["merge-lora", base, Fixtures.root.path + "/lora/attention/adapter", base, "--force"])
        XCTAssertEqual(overBase.stderr, "moe-slim: error: \(base): the output would write over or inside the input \(base)\n")

        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: planCopy)), try Data(contentsOf: URL(fileURLWithPath: plan)))
        XCTAssertEqual(try String(contentsOfFile: counts, encoding: .utf8), "{}")
        XCTAssertTrue(FileManager.default.fileExists(atPath: base + "/model.safetensors"))
    }

    func testCountsMergeOutputEqualToAnInputIsRefused() throws {
        let dir = try Fixtures.scratch()
        let counts = dir + "/a.json"
        try "{}".write(toFile: counts, atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir + "/same.json", withDestinationPath: counts)
        let result = try CommandRunner.run(["counts", "merge", counts, "-o", dir + "/same.json", "--force"])
        XCTAssertEqual(result.status, 64)
        XCTAssertEqual(result.stderr, "moe-slim: error: \(dir)/same.json: -o would write over or inside the input \(counts)\n")
    }

    /// Before this check, calibrate ran to the end and only then failed to write.
    func testCalibrateChecksItsOutputFoldersFirst() throws {
        let dir = try Fixtures.scratch()
        let data = dir + "/data.jsonl"
        try "{\"input_ids\": [1, 2, 3]}\n".write(toFile: data, atomically: true, encoding: .utf8)
        let model = EngineGolden.folder("mixtral")
        let missing = try CommandRunner.run(["calibrate", model, "--data", data, "-o", dir + "/nowhere/c.json"])
        XCTAssertEqual(missing.status, 74)
        XCTAssertEqual(missing.stderr, "moe-slim: error: \(dir)/nowhere: the folder for -o does not exist\n")
        let heatmap = try CommandRunner.run(["calibrate", model, "--data", data, "-o", dir + "/c.json", "--heatmap", dir + "/nowhere/h.svg"])
        XCTAssertEqual(heatmap.stderr, "moe-slim: error: \(dir)/nowhere: the folder for --heatmap does not exist\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/c.json"))
    }

    /// A temporary whose lock nobody holds belongs to a run that died (kill -9): the next write into the
    /// folder removes it. One still locked (a run in progress) stays, and so does anything not named like ours.
    func testStaleTemporariesOfDeadRunsAreRemovedByTheNextWrite() throws {
        let dir = try Fixtures.scratch()
        let staleFolder = dir + "/.moe-slim-tmp-4242-1.out"
        try FileManager.default.createDirectory(atPath: staleFolder, withIntermediateDirectories: false)
        try Data(count: 1000).write(to: URL(fileURLWithPath: staleFolder + "/model.safetensors"))
        try Data(count: 10).write(to: URL(fileURLWithPath: dir + "/.moe-slim-tmp-4242-2.plan.json"))
        let live = dir + "/.moe-slim-tmp-4243-3.out"
        try FileManager.default.createDirectory(atPath: live, withIntermediateDirectories: false)
        let lock = open(live, O_RDONLY)
        defer { close(lock) }
        XCTAssertEqual(flock(lock, LOCK_EX), 0)
        try Data(count: 10).write(to: URL(fileURLWithPath: dir + "/moe-slim-tmp-notes.txt"))
        XCTAssertEqual(try prune(dir + "/out").status, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(),
                       [".moe-slim-tmp-4243-3.out", "moe-slim-tmp-notes.txt", "out"])
    }
}
