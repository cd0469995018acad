import Foundation

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
    var stderrLines: [Substring] { stderr.split(separator: "\n") }
}
