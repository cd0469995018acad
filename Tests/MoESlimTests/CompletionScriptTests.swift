import Foundation
import XCTest

/// The bash completion script, as `moe-slim --generate-completion-script bash` prints it, run in bash: enum
/// options offer their values, and path options offer nothing so bash completes paths (`-o default`).
final class CompletionScriptTests: XCTestCase {
    func testBashScriptOffersValuesAndFallsBackToPaths() throws {
        let generated = try CommandRunner.run(["--generate-completion-script", "bash"])
        XCTAssertEqual(generated.status, 0, generated.stderr)
        XCTAssertTrue(generated.stdout.hasSuffix("\ncomplete -o default -o filenames -F _moe-slim moe-slim\n"))
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("moe-slim-\(UUID()).bash").path
        defer { try? FileManager.default.removeItem(atPath: script) }
        try Data(generated.stdout.utf8).write(to: URL(fileURLWithPath: script))
        let probe = """
            source "$1"
            complete -p moe-slim
            offer() { COMPREPLY=(); COMP_WORDS=("$@" ""); COMP_CWORD=$#; COMP_LINE="$* "; COMP_POINT=${#COMP_LINE}
                      _moe-slim moe-slim "" "${@: -1}"; echo "${@: -1}: ${COMPREPLY[*]}"; }
            offer moe-slim prune M OUT --strategy
            offer moe-slim prune M OUT --criterion
            offer moe-slim sweep M --criterion
            offer moe-slim prune M OUT --counts
            offer moe-slim calibrate M --data
            """
        let bash = try CommandRunner.run(program: URL(fileURLWithPath: "/bin/bash"), ["-c", probe, "probe", script])
        XCTAssertEqual(bash.status, 0, bash.stderr)
        XCTAssertEqual(bash.stdout, """
            complete -o default -o filenames -F _moe-slim moe-slim
            --strategy: layer global
            --criterion: hard soft soft-softmax saliency-sum reap ean man random aimer
            --criterion: hard soft soft-softmax saliency-sum reap ean man random aimer
            --counts: \n--data: \n
            """)
    }
}
