import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs the built executable like CommandRunner, but with a deadline and the child's own peak memory: a run
/// that hangs (a FIFO opened blocking) is killed and reported instead of hanging the test suite, and wait4
/// gives the resident-set peak of this child alone, where RUSAGE_CHILDREN would mix in every earlier test.
enum MeasuredRun {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
        /// Peak resident set of the child, in KiB.
        var peakKiB: Int
        var timedOut: Bool
    }

    /// A memory bound in KiB for a run of the shipped build; under a sanitizer (scripts/asan.sh sets
    /// MOESLIM_SANITIZER), whose shadow memory and quarantine hold several times the program's own, four times it.
    static func bound(mebibytes: Int) -> Int {
        mebibytes * 1024 * (ProcessInfo.processInfo.environment["MOESLIM_SANITIZER"] == nil ? 1 : 4)
    }

    static func run(_ arguments: [String], deadline seconds: Double = 60) throws -> Outcome {
        let dir = try Fixtures.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (outPath, errPath) = (dir + "/stdout", dir + "/stderr")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let program = CommandRunner.executable.path
        let argv: [UnsafeMutablePointer<CChar>?] = ([program] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, program, &actions, nil, argv, environ)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
        var status: Int32 = 0
        var usage = rusage()
        var timedOut = false
        let start = Date()
        while wait4(pid, &status, WNOHANG, &usage) == 0 {
            if Date().timeIntervalSince(start) > seconds {
                timedOut = true
                kill(pid, SIGKILL)
                wait4(pid, &status, 0, &usage)
                break
            }
            usleep(10_000)
        }
        let signal = status & 0x7F
        return Outcome(
            status: signal == 0 ? (status >> 8) & 0xFF : 128 + signal,
            stdout: try String(contentsOfFile: outPath, encoding: .utf8),
            stderr: try String(contentsOfFile: errPath, encoding: .utf8),
            peakKiB: usage.ru_maxrss, timedOut: timedOut)
    }
}
