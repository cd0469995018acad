import Foundation
import MoESlimSupport
import MoESlimText
import MoESlimSlimming

/// What the sweep shows of one metric set, so perplexity and choice results share one table and one JSON
/// layout. `versusBase` is false on the base row, which has nothing to be compared with.
protocol SweepMetric: Sendable, Equatable {
    static var columns: [String] { get }
    func cells(versusBase: Bool) -> [String]
    func members(versusBase: Bool) -> [(key: String, value: JSONValue)]
    /// What the metric was measured over, e.g. "431 tokens".
    var extent: String { get }
}

extension NextTokenMetrics: SweepMetric {
    static var columns: [String] { ["perplexity", "KL vs base", "top-1 agree"] }

    func cells(versusBase: Bool) -> [String] {
        [String(format: "%.4f", perplexity)]
            + (versusBase ? [String(format: "%.6f", kl), String(format: "%.2f%%", top1Agreement * 100)] : ["-", "-"])
    }

    func members(versusBase: Bool) -> [(key: String, value: JSONValue)] {
        var out: [(key: String, value: JSONValue)] = [("perplexity", EvalOutput.number(perplexity)), ("tokens", .int(tokens))]
        if versusBase { out += [("kl", EvalOutput.number(kl)), ("top1_agreement", EvalOutput.number(top1Agreement))] }
        return out
    }

    var extent: String { EvalOutput.counted(tokens, "token") }
}

extension ChoiceScoring: SweepMetric {
    static var columns: [String] { ["accuracy"] }

    func cells(versusBase: Bool) -> [String] { [String(format: "%.2f%%", accuracy * 100)] }

    func members(versusBase: Bool) -> [(key: String, value: JSONValue)] {
        [("accuracy", EvalOutput.number(accuracy)), ("questions", .int(questions))]
    }

    var extent: String { EvalOutput.counted(questions, "question") }
}
