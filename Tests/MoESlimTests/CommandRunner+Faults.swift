import Foundation
import XCTest

/// What the fault tests need beyond a plain run: limits or another user for the child only, and a running
/// process to signal.
extension CommandRunner {
    /// `shellPrefix` (ending in `exec`, or a wrapper such as `exec setpriv ...`) runs the tool through /bin/sh.
    static func run(_ arguments: [String], shellPrefix: String) throws -> Result {
        let quoted = ([executable.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        return try run(program: URL(fileURLWithPath: "/bin/sh"), ["-c", shellPrefix + " " + quoted.joined(separator: " ")])
    }

    /// Starts the tool without waiting, its output discarded.
    static func start(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }
}

extension CommandRunner.Result {
    /// stderr's lines without the progress lines of calibrate, eval and sweep (ProgressTests checks those),
    /// which now appear from the first layer on, before any error.
    var stderrLines: [Substring] { stderr.split(separator: "\n").filter { !isProgressLine($0) } }
}

/// "calibrate: …", "eval: …", "sweep: …": a progress line, never an error or a warning.
func isProgressLine(_ line: Substring) -> Bool {
    ["calibrate: ", "eval: ", "sweep: "].contains { line.hasPrefix($0) }
}

extension CommandRunner {
    struct Running {
        let process: Process
        let stderr: Pipe

        /// Waits for the exit; stderr is read afterwards, which is safe for the few lines these runs print.
        func finish() -> Result {
            process.waitUntilExit()
            let text = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            return Result(status: process.terminationStatus, stdout: "", stderr: text)
        }
    }

    /// Starts the tool without waiting, stdout discarded and stderr kept.
    static func startCapturing(_ arguments: [String]) throws -> Running {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        let stderr = Pipe()
        process.standardError = stderr
        try process.run()
        return Running(process: process, stderr: stderr)
    }

    /// Waits until the running tool has `path` mapped (it has opened the model and will read it), with no
    /// clock involved; fails the test if the process ends first.
    static func waitUntilMapped(_ path: String, by process: Process) throws {
        let maps = "/proc/\(process.processIdentifier)/maps"
        while process.isRunning {
            if String(decoding: readToEnd(maps), as: UTF8.self).contains(path) { return }
            usleep(1000)
        }
        XCTFail("the process ended before it mapped \(path)")
    }

    /// Foundation stops reading /proc files after one page; read(2) to the end instead.
    private static func readToEnd(_ path: String) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return bytes }
            bytes += chunk[..<n]
        }
    }
}
