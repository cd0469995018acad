import XCTest
@testable import MoESlimSlimming

/// The write path under faults, through the real `moe-slim prune` executable: a full disk, a read-only output
/// folder, a missing input shard, SIGKILL in the middle of a multi-shard write, and two writers at once.
final class FaultTests: XCTestCase {
    private var model: FaultModel!

    override func setUpWithError() throws {
        model = try FaultModel()
    }

    override func tearDown() {
        model.remove()
    }

    private func makeFolder(_ name: String) throws -> String {
        let path = model.root + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// RLIMIT_FSIZE stands in for a full disk: with SIGXFSZ ignored (an ignored signal stays ignored across
    /// exec) a write past the limit fails with EFBIG instead of killing the process.
    func testFullDiskGivesAClearErrorAndLeavesNoTemporary() throws {
        let parent = try makeFolder("full")
        let output = parent + "/pruned"
        let run = try CommandRunner.run(model.pruneArguments(to: output), shellPrefix: "trap '' XFSZ; ulimit -f 256; exec")
        XCTAssertEqual(run.status, 74, run.stderr)
        XCTAssertEqual(run.stderrLines.count, 1, run.stderr)
        XCTAssertTrue(run.stderr.hasPrefix("moe-slim: error: "), run.stderr)
        XCTAssertTrue(run.stderr.contains("File too large"), run.stderr)
        XCTAssertEqual(FaultModel.temporaries(in: parent), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
    }

    /// Root ignores permission bits, so as root the tool runs as nobody (setpriv) against a folder it cannot
    /// write; as any other user the mode alone does it.
    func testReadOnlyOutputFolderGivesAClearError() throws {
        let parent = try makeFolder("read-only")
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: parent)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: parent) }
        let output = parent + "/pruned"
        let asNobody = geteuid() == 0 ? "exec setpriv --reuid=65534 --regid=65534 --clear-groups" : "exec"
        let run = try CommandRunner.run(model.pruneArguments(to: output), shellPrefix: asNobody)
        XCTAssertEqual(run.status, 74, run.stderr)
        XCTAssertEqual(run.stderrLines.count, 1, run.stderr)
        XCTAssertTrue(run.stderr.contains("Permission denied"), run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
    }

    func testMissingInputShardGivesAClearError() throws {
        try FileManager.default.removeItem(atPath: model.input + "/model-00002-of-00004.safetensors")
        let output = try makeFolder("missing") + "/pruned"
        let run = try CommandRunner.run(model.pruneArguments(to: output))
        XCTAssertEqual(run.status, 65, run.stderr)
        XCTAssertEqual(run.stderrLines, [
            "moe-slim: error: \(model.input)/model.safetensors.index.json: weight_map names shard 'model-00002-of-00004.safetensors', which is missing",
        ])
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
    }

    func testSigkillMidWriteLeavesNoOutputAndTheInputUnchanged() throws {
        let before = try FaultModel.hash(folder: model.input)
        let parent = try makeFolder("killed")
        let output = parent + "/pruned"
        try killMidWrite(model.pruneArguments(to: output), watching: parent) {
            try? FileManager.default.removeItem(atPath: output)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
        XCTAssertEqual(try FaultModel.hash(folder: model.input), before)
    }

    /// kill -9 cannot be caught, so its temporary stays until the next write into the folder, which finds the
    /// temporary's lock free (its owner is gone) and removes it.
    func testNextWriteRemovesTheTemporaryOfAKilledRun() throws {
        let parent = try makeFolder("killed-then-again")
        let output = parent + "/pruned"
        try killMidWrite(model.pruneArguments(to: output), watching: parent) {
            try? FileManager.default.removeItem(atPath: output)
        }
        XCTAssertEqual(FaultModel.temporaries(in: parent).count, 1)
        XCTAssertEqual(try CommandRunner.run(model.pruneArguments(to: output)).status, 0)
        XCTAssertEqual(FaultModel.temporaries(in: parent), [])
        XCTAssertNoThrow(try Verifier.verify(output))
    }

    func testSigkillMidWriteKeepsThePreviousCompleteOutput() throws {
        let parent = try makeFolder("replaced")
        let output = parent + "/pruned"
        var previous: UInt64 = 0
        try killMidWrite(model.pruneArguments(to: output, plan: "keep-23.json", force: true), watching: parent) {
            try? FileManager.default.removeItem(atPath: output)
            XCTAssertEqual(try CommandRunner.run(model.pruneArguments(to: output)).status, 0)
            previous = try FaultModel.hash(folder: output)
        }
        XCTAssertEqual(try FaultModel.hash(folder: output), previous)
        XCTAssertNoThrow(try Verifier.verify(output))
    }

    /// SIGTERM (and Ctrl-C) can be caught: the writer removes its temporary before exiting. The writing thread
    /// may notice its folder vanish and fail first (exit 74) instead of the handler's 143; either way nothing
    /// is left behind.
    func testSigtermMidWriteRemovesTheTemporary() throws {
        let parent = try makeFolder("terminated")
        let output = parent + "/pruned"
        let stopped = try stopMidWrite(model.pruneArguments(to: output), watching: parent) {
            try? FileManager.default.removeItem(atPath: output)
        }
        guard let writer = stopped else { return }
        kill(writer.processIdentifier, SIGTERM)
        kill(writer.processIdentifier, SIGCONT)
        writer.waitUntilExit()
        XCTAssertTrue([128 + SIGTERM, 74].contains(writer.terminationStatus), "\(writer.terminationStatus)")
        XCTAssertEqual(FaultModel.temporaries(in: parent), [])
        XCTAssertFalse(FileManager.default.fileExists(atPath: output))
    }

    func testConcurrentWritersLeaveOneCompleteOutput() throws {
        let references = try makeFolder("references")
        for plan in ["keep-01.json", "keep-23.json"] {
            XCTAssertEqual(try CommandRunner.run(model.pruneArguments(to: references + "/" + plan, plan: plan)).status, 0)
        }
        let expected = try Set(["keep-01.json", "keep-23.json"].map { try FaultModel.hash(folder: references + "/" + $0) })
        let parent = try makeFolder("concurrent")
        let output = parent + "/pruned"
        let writers = try ["keep-01.json", "keep-23.json"].map { plan in
            try CommandRunner.start(model.pruneArguments(to: output, plan: plan, force: true))
        }
        writers.forEach { $0.waitUntilExit() }
        let statuses = writers.map(\.terminationStatus)
        XCTAssertTrue(statuses.allSatisfy { $0 == 0 || $0 == 73 }, "\(statuses)")
        XCTAssertTrue(statuses.contains(0), "\(statuses)")
        XCTAssertTrue(expected.contains(try FaultModel.hash(folder: output)))
        XCTAssertNoThrow(try Verifier.verify(output))
        XCTAssertEqual(FaultModel.temporaries(in: parent), [])
    }

    /// Stops the writer as soon as its temporary folder holds a shard and confirms it is still writing shards:
    /// the temporary has no config.json, which is written after the last shard (after publishing with
    /// --force, the temporary holds the previous output, config.json included). No clock is involved: if the
    /// write got further before the stop landed, the run is discarded and repeated after `prepare`.
    private func stopMidWrite(_ arguments: [String], watching parent: String, prepare: () throws -> Void) throws -> Process? {
        for _ in 0..<20 {
            try prepare()
            let writer = try CommandRunner.start(arguments)
            while writer.isRunning {
                guard let temp = FaultModel.temporaries(in: parent).first,
                      let inside = try? FileManager.default.contentsOfDirectory(atPath: parent + "/" + temp), !inside.isEmpty
                else { continue }
                kill(writer.processIdentifier, SIGSTOP)
                let files = (try? FileManager.default.contentsOfDirectory(atPath: parent + "/" + temp)) ?? ["config.json"]
                if !files.contains("config.json") { return writer }
                kill(writer.processIdentifier, SIGCONT)
                break
            }
            writer.waitUntilExit()
        }
        XCTFail("the writer never stayed mid-write long enough to be stopped")
        return nil
    }

    private func killMidWrite(_ arguments: [String], watching parent: String, prepare: () throws -> Void) throws {
        guard let writer = try stopMidWrite(arguments, watching: parent, prepare: prepare) else { return }
        kill(writer.processIdentifier, SIGKILL)
        writer.waitUntilExit()
        XCTAssertEqual(writer.terminationReason, .uncaughtSignal)
    }
}
