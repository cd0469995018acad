import Foundation
import MoESlimSupport
import MoESlimSlimming

/// Progress of calibrate, eval and sweep on stderr, moving with every decoder layer of every chunk: on a
/// terminal one line redrawn in place (at most ten times a second); otherwise, so that logs of batch jobs stay
/// readable, a plain line each time another tenth of the work is done or a minute has passed, and a closing
/// line with the totals. The percentage and ETA come from the token total (`TokenTotal`), said to be counted
/// or estimated.
final class ProgressLine {
    private let label: String
    private let total: TokenTotal
    private let terminal = FileHandleOutput.stderrIsTerminal
    private let start = Date()
    private var lastDrawn = Date.distantPast
    private var lastPercent = 0.0
    private var drawnOnTerminal = false
    private var latest: Calibration.Progress?

    static let terminalInterval: TimeInterval = 0.1
    static let pipeInterval: TimeInterval = 60
    static let pipeStep = 10.0

    init(label: String, total: TokenTotal) {
        self.label = label
        self.total = total
        let opening = "\(label): \(total.tokens) tokens to run (\(total.counted ? "counted" : "estimated from the first part of the data"))"
        if terminal {
            draw(opening)
        } else {
            FileHandleOutput.stderr(opening + "\n")
        }
    }

    func update(_ p: Calibration.Progress) {
        latest = p
        let now = Date()
        let done = Double(p.tokens) + p.runningTokens
        let percent = total.tokens > 0 ? min(100, 100 * done / Double(total.tokens)) : 100
        if terminal {
            guard now.timeIntervalSince(lastDrawn) >= Self.terminalInterval else { return }
            draw(line(done: done, percent: percent, barWidth: 24))
        } else {
            // The closing line reports the end; a "100%" line before it would say nothing new.
            guard percent < 100, percent - lastPercent >= Self.pipeStep || now.timeIntervalSince(lastDrawn) >= Self.pipeInterval else { return }
            lastPercent = percent
            FileHandleOutput.stderr(line(done: done, percent: percent, barWidth: nil) + "\n")
        }
        lastDrawn = now
    }

    /// The closing line, once the run has gone through all its data.
    func finish() {
        let seconds = Date().timeIntervalSince(start)
        let tokens = latest?.tokens ?? 0
        let rate = seconds > 0 ? Double(tokens) / seconds : 0
        let text = "\(label): done, \(tokens) tokens in \(latest?.sequences ?? 0) sequences, \(Self.duration(seconds)), \(Int(rate.rounded())) tokens/s"
        if terminal {
            draw(text)
            FileHandleOutput.stderr("\n")
            drawnOnTerminal = false
        } else {
            FileHandleOutput.stderr(text + "\n")
        }
    }

    /// Ends a redrawn line that a failure interrupts, so the error starts on a line of its own.
    func close() {
        if drawnOnTerminal { FileHandleOutput.stderr("\n") }
        drawnOnTerminal = false
    }

    private func draw(_ text: String) {
        FileHandleOutput.stderr("\r\u{1B}[K" + text)
        drawnOnTerminal = true
    }

    private func line(done: Double, percent: Double, barWidth: Int?) -> String {
        let seconds = Date().timeIntervalSince(start)
        let rate = seconds > 0 ? done / seconds : 0
        let approx = total.counted ? "" : "~"
        var head = String(format: "%3.0f%%", percent.rounded(.down))
        if let barWidth { head = bar(percent / 100, width: barWidth) + " " + head }
        var parts = ["\(head) (\(Int(done)) of \(approx)\(total.tokens) tokens)", "\(Int(rate.rounded())) tokens/s", "\(Self.duration(seconds)) elapsed"]
        let left = Double(total.tokens) - done
        if left > 0 {
            parts.append(rate > 0 ? "ETA \(approx)\(Self.duration(left / rate))" : "ETA unknown")
        } else if !total.counted {
            parts.append("past the estimate")
        }
        return "\(label): " + parts.joined(separator: ", ")
    }

    private func bar(_ done: Double, width: Int) -> String {
        let filled = max(0, min(width, Int(done * Double(width))))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }

    /// 9.4s, 4m05s, 2h07m.
    static func duration(_ seconds: Double) -> String {
        let s = max(0, seconds)
        if s < 60 { return String(format: "%.1fs", s) }
        let whole = Int(s.rounded())
        if whole < 3600 { return String(format: "%dm%02ds", whole / 60, whole % 60) }
        return String(format: "%dh%02dm", whole / 3600, (whole % 3600) / 60)
    }
}
