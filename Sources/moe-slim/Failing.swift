import ArgumentParser
import MoESlim

/// Runs a command body and turns our typed error into one line on stderr and its exit code, so no command
/// prints a Swift stack or exits 0 on bad input.
func failing(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as MoESlimError {
        printError("moe-slim: error: \(error)")
        throw ExitCode(error.code.exitCode)
    }
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
