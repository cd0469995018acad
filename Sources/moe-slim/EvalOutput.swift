import Foundation
import MoESlimSupport
import MoESlimText
import MoESlimSlimming

/// The JSON members and text of eval and sweep results (formats/eval.md), one metric set at a time.
enum EvalOutput {
    static func number(_ v: Double) -> JSONValue { v.isFinite ? .number(String(v)) : .null }

    /// A model's perplexity; with `compared`, also the compared model's and the KL and agreement between them.
    static func members(_ metrics: NextTokenMetrics, compared: NextTokenMetrics? = nil) -> [(key: String, value: JSONValue)] {
        var out: [(key: String, value: JSONValue)] = [("perplexity", number(metrics.perplexity)), ("tokens", .int(metrics.tokens))]
        if let compared {
            out += [("against_perplexity", number(compared.perplexity)), ("kl", number(compared.kl)),
                    ("top1_agreement", number(compared.top1Agreement))]
        }
        return out
    }

    static func members(_ scoring: ChoiceScoring, compared: ChoiceScoring? = nil) -> [(key: String, value: JSONValue)] {
        var out: [(key: String, value: JSONValue)] = [("accuracy", number(scoring.accuracy)), ("questions", .int(scoring.questions))]
        if let compared { out.append(("against_accuracy", number(compared.accuracy))) }
        return out
    }

    /// Top-level members plus a "groups" object when the data was grouped.
    static func grouped<M>(_ base: Grouped<M>, _ other: Grouped<M>?, members: (M, M?) -> [(key: String, value: JSONValue)]) -> [(key: String, value: JSONValue)] {
        var out = members(base.total, other?.total)
        if !base.groups.isEmpty {
            out.append(("groups", .object(base.groups.map { g in (g, .object(members(base.byGroup[ByteName(g)]!, other?.byGroup[ByteName(g)]))) })))
        }
        return out
    }

    static func text(_ metrics: NextTokenMetrics, compared: NextTokenMetrics? = nil) -> String {
        var line = String(format: "perplexity %.4f over %d tokens", metrics.perplexity, metrics.tokens)
        if let compared {
            line += String(format: "; against: perplexity %.4f, KL(base‖against) %.6f nats/token, top-1 agreement %.2f%%",
                           compared.perplexity, compared.kl, compared.top1Agreement * 100)
        }
        return line
    }

    static func text(_ scoring: ChoiceScoring, compared: ChoiceScoring? = nil) -> String {
        var line = String(format: "accuracy %.2f%% (%d of %d questions)", scoring.accuracy * 100, scoring.correct, scoring.questions)
        if let compared { line += String(format: "; against: accuracy %.2f%% (%d correct)", compared.accuracy * 100, compared.correct) }
        return line
    }

    /// "1 question", "4 questions".
    static func counted(_ n: Int, _ noun: String) -> String { "\(n) \(noun)" + (n == 1 ? "" : "s") }

    static func count(_ v: Double) -> String {
        let units = ["", "K", "M", "G", "T"]
        var value = v
        var unit = 0
        while abs(value) >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? String(format: "%.0f", value) : String(format: "%.2f", value) + units[unit]
    }
}
