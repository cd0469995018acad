import Foundation
import MoESlimSupport
import MoESlimSlimming

/// Progress of calibrate, eval and sweep on stderr: a bar redrawn in place on a terminal, one plain line per
/// chunk otherwise (logs of batch jobs stay readable).
final class ProgressLine {
    private let total: Int?
    private let label: String
    private let terminal = FileHandleOutput.stderrIsTerminal

    init(total: Int?, label: String = "calibrate") {
        self.total = total
        self.label = label
    }

    /// `fractionRead` (share of the input bytes consumed) gives an ETA when no token limit does.
    func update(_ p: Calibration.Progress, fractionRead: Double?) {
        let rate = p.seconds > 0 ? Double(p.tokens) / p.seconds : 0
        var text = "\(label): \(p.tokens) tokens, \(p.sequences) sequences, \(String(format: "%.0f", rate)) tokens/s"
        var done: Double?
        var eta: Double?
        if let total, total > 0 {
            done = min(1, Double(p.tokens) / Double(total))
            eta = rate > 0 ? Double(total - min(total, p.tokens)) / rate : 0
        } else if let f = fractionRead, f > 0 {
            done = f
            eta = p.seconds * (1 - f) / f
        }
        if let done, let eta {
            text = terminal ? bar(done) + " " + text : text + String(format: ", %.0f%%", done * 100)
            text += String(format: ", ETA %.0fs", eta)
        }
        FileHandleOutput.stderr(terminal ? "\r\u{1B}[K" + text : text + "\n")
    }

    func finish() {
        if terminal { FileHandleOutput.stderr("\n") }
    }

    private func bar(_ done: Double) -> String {
        let width = 24
        let filled = Int(done * Double(width))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }
}
