import ArgumentParser
import Foundation
import MoESlimSupport

/// Runs a command body and turns our typed error into one line on stderr and its exit code, so no command
/// prints a Swift stack or exits 0 on bad input.
func failing(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as MoESlimError {
        printError("moe-slim: error: \(shown(error))")
        throw ExitCode(error.code.exitCode)
    }
}

/// The error as users read it; with MOE_SLIM_DEBUG set (to anything but "" or "0"), also the source location
/// that raised it, for bug reports. The plain line stays the default because scripts and tests match it.
func shown(_ error: MoESlimError) -> String {
    let debug = ProcessInfo.processInfo.environment["MOE_SLIM_DEBUG"].map { !$0.isEmpty && $0 != "0" } ?? false
    return debug ? String(reflecting: error) : String(describing: error)
}

func printError(_ text: String) {
    var stream = StandardError()
    print(text, to: &stream)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandleOutput.stderr(string)
    }
}
