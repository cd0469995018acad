import Foundation
import MoESlimSupport
import MoESlimFamilies
import MoESlimSlimming

/// The per-expert side of `counts show`: every expert's hard count and share, experts never picked ("dead",
/// the first to go whatever the criterion) counted per layer, and the same as JSON for scripts.
enum CountsDetails {
    static func dead(_ layer: ExpertCounts.Layer) -> [Int] { layer.hard.indices.filter { layer.hard[$0] == 0 } }

    /// One line: how many experts were never picked, and where.
    static func deadSummary(_ counts: ExpertCounts) -> String {
        let perLayer = counts.layers.map { ($0.layer, dead($0).count) }.filter { $0.1 > 0 }
        let total = perLayer.reduce(0) { $0 + $1.1 }
        guard total > 0 else { return "dead experts (never picked): none" }
        let layers = perLayer.map { "layer \($0.0): \($0.1)" }.joined(separator: ", ")
        return "dead experts (never picked): \(total) (\(layers))"
    }

    /// Per layer, each expert's hard count and share of the layer's picks, most used first.
    static func text(_ counts: ExpertCounts) -> String {
        var lines: [String] = []
        for layer in counts.layers {
            let shares = ExpertCounts.hardShares(layer)
            let order = shares.indices.sorted { shares[$0] != shares[$1] ? shares[$0] > shares[$1] : $0 < $1 }
            lines.append("layer \(layer.layer): " + order.map { e in
                String(format: "%d:%.0f (%.1f%%)", e, layer.hard[e], shares[e] * 100)
            }.joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ counts: ExpertCounts) -> String {
        func number(_ v: Double) -> JSONValue { v.isFinite ? .number(String(v)) : .null }
        let layers: [JSONValue] = counts.layers.map { layer in
            let shares = ExpertCounts.hardShares(layer)
            let experts: [JSONValue] = layer.hard.indices.map { e in
                .object([("expert", .int(e)), ("hard", number(layer.hard[e])), ("hard_share", number(shares[e])), ("soft", number(layer.soft[e]))])
            }
            return .object([
                ("layer", .int(layer.layer)), ("tokens", .int(layer.tokens)),
                ("entropy", number(layer.tokens > 0 ? layer.entropySum / Double(layer.tokens) : .nan)),
                ("dead", .array(dead(layer).map { .int($0) })), ("experts", .array(experts)),
            ])
        }
        let deadTotal = counts.layers.reduce(0) { $0 + dead($1).count }
        return JSONValue.object([
            ("model_type", .string(counts.modelType)), ("fingerprint", .string(counts.fingerprint)),
            ("tokens", .int(counts.tokens)), ("sequences", .int(counts.sequences)),
            ("dead_experts", .int(deadTotal)), ("layers", .array(layers)),
        ]).serialized()
    }
}
