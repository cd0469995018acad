import XCTest

/// Progress as a log sees it (stderr is a pipe here): an opening line with the counted token total, a line each
/// time another tenth of the work is done, moving within a chunk (per decoder layer), and one closing line; no
/// carriage returns or escape codes, no "100%" or "ETA 0s" before the end.
final class ProgressTests: XCTestCase {
    let model = Fixtures.root.appendingPathComponent("tiny-mixtral").path
    let calib = Fixtures.root.appendingPathComponent("tiny-mixtral/calib.txt").path

    func testCalibrateOnAPipeWritesPlainLinesWithATruePercentage() throws {
        let out = try Fixtures.scratch() + "/counts.json"
        // 1 MiB gives chunks of a few sequences, so lines come from several chunks and from within them.
        let r = try CommandRunner.run(["calibrate", model, "--data", calib, "-o", out, "--memory", "1MiB"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stderr.contains("\r") || r.stderr.contains("\u{1B}"), r.stderr)
        let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines.first, "calibrate: 444 tokens to run (counted)", r.stderr)
        XCTAssertEqual(lines.last, "", "every line ends with a newline")
        let closing = lines[lines.count - 2]
        XCTAssertTrue(closing.hasPrefix("calibrate: done, 444 tokens in 13 sequences, "), r.stderr)
        let middle = Array(lines[1..<(lines.count - 2)])
        XCTAssertGreaterThanOrEqual(middle.count, 3, r.stderr)
        var previous = -1
        for line in middle {
            let match = try XCTUnwrap(line.firstMatch(of: /^calibrate: +(\d+)% \((\d+) of 444 tokens\), \d+ tokens\/s, [0-9.]+s elapsed, ETA [0-9.]+s$/), line)
            let percent = Int(match.1)!
            XCTAssertLessThan(percent, 100, line)
            XCTAssertGreaterThanOrEqual(percent - previous, 10, r.stderr)
            XCTAssertEqual(percent, Int(match.2)! * 100 / 444, line)
            previous = percent
        }
    }

    func testProgressOnATerminalIsOneRedrawnLine() throws {
        let script = URL(fileURLWithPath: "/usr/bin/script")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: script.path), "needs script(1) for a terminal")
        let out = try Fixtures.scratch() + "/counts.json"
        let command = [CommandRunner.executable.path, "calibrate", model, "--data", calib, "-o", out, "--memory", "1MiB"]
            .map { "'\($0)'" }.joined(separator: " ")
        let r = try CommandRunner.run(program: script, ["-qec", command, "/dev/null"])
        XCTAssertEqual(r.status, 0, r.stdout)
        // Everything before the closing line is one terminal line, redrawn with CR and erase-line.
        let screen = r.stdout.replacingOccurrences(of: "\r\n", with: "\n")
        let progress = try XCTUnwrap(screen.split(separator: "\n").first)
        XCTAssertTrue(progress.hasPrefix("\r\u{1B}[Kcalibrate: 444 tokens to run (counted)"), screen)
        XCTAssertTrue(progress.contains("\r\u{1B}[Kcalibrate: ["), screen)
        XCTAssertTrue(progress.contains("\r\u{1B}[Kcalibrate: done, 444 tokens in 13 sequences, "), screen)
        XCTAssertTrue(screen.contains("\nwrote \(out): 444 tokens in 13 sequences"), screen)
    }
}
