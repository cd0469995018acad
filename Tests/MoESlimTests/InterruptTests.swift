import XCTest

/// Signals during calibrate, through the real executable: SIGINT and SIGTERM stop it at once with one line and
/// 130 / 143, and a shard truncated under its mapping (SIGBUS) gives one error naming the file.
final class InterruptTests: XCTestCase {
    private var folder = ""
    private var model: String { folder + "/model" }

    /// The engine's mixtral fixture and enough records that calibrate is still working when the signal comes.
    override func setUpWithError() throws {
        folder = try Fixtures.scratch()
        try FileManager.default.copyItem(atPath: EngineGolden.folder("mixtral"), toPath: model)
        var lines = ""
        for record in 0..<2000 {
            lines += "{\"input_ids\": [" + (0..<64).map { String(($0 * 7 + record) % 96) }.joined(separator: ", ") + "]}\n"
        }
        try lines.write(toFile: folder + "/data.jsonl", atomically: true, encoding: .utf8)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: folder)
    }

    private var arguments: [String] { ["calibrate", model, "--data", folder + "/data.jsonl", "-o", folder + "/counts.json"] }

    func testSigintStopsCalibrateAtOnce() throws {
        try checkStops(arguments, on: SIGINT, status: 130, message: "moe-slim: interrupted\n")
    }

    func testSigtermStopsCalibrateAtOnce() throws {
        try checkStops(arguments, on: SIGTERM, status: 143, message: "moe-slim: terminated\n")
    }

    /// eval runs OpenBLAS's threads; Ctrl-C used to crash in its exit handler with a crash report.
    func testSigintStopsEvalAtOnce() throws {
        try checkStops(["eval", model, "--data", folder + "/data.jsonl"], on: SIGINT, status: 130, message: "moe-slim: interrupted\n")
    }

    func testTruncatedShardDuringCalibrateNamesTheFile() throws {
        let shard = model + "/model.safetensors"
        let run = try CommandRunner.startCapturing(arguments)
        try CommandRunner.waitUntilMapped(shard, by: run.process)
        XCTAssertEqual(truncate(shard, 0), 0)
        let result = run.finish()
        XCTAssertEqual(result.status, 74, result.stderr)
        XCTAssertEqual(result.stderr, "moe-slim: error: \(shard): the file changed or was truncated while it was being read\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/counts.json"))
    }

    private func checkStops(_ arguments: [String], on signal: Int32, status: Int32, message: String) throws {
        let run = try CommandRunner.startCapturing(arguments)
        try CommandRunner.waitUntilMapped(model + "/model.safetensors", by: run.process)
        usleep(200_000)
        let sent = Date()
        kill(run.process.processIdentifier, signal)
        let result = run.finish()
        XCTAssertLessThan(Date().timeIntervalSince(sent), 1)
        XCTAssertEqual(result.status, status, result.stderr)
        // Progress may have started before the signal (its opening line comes before the first chunk).
        XCTAssertEqual(result.stderrLines.map { $0 + "\n" }.joined(), message, result.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder).sorted(), ["data.jsonl", "model"])
    }
}
