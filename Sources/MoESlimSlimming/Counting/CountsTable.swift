import Foundation

/// `counts show`: one line per MoE layer with the numbers that decide pruning at a glance.
public enum CountsTable {
    public static func text(_ counts: ExpertCounts) -> String {
        var lines = [
            "model: \(counts.modelType)  fingerprint: \(counts.fingerprint)",
            "tokens: \(counts.tokens)  sequences: \(counts.sequences)",
            "",
            "layer  experts   tokens  entropy  for-90%  top expert (share)  least used (share)",
        ]
        for layer in counts.layers {
            let shares = ExpertCounts.hardShares(layer)
            let sorted = shares.enumerated().sorted { $0.element > $1.element }
            var cumulative = 0.0, needed = 0
            for (_, share) in sorted where cumulative < 0.9 {
                cumulative += share
                needed += 1
            }
            let entropy = layer.tokens > 0 ? layer.entropySum / Double(layer.tokens) : 0
            let top = sorted.first.map { "\($0.offset) (\(percent($0.element)))" } ?? "-"
            let least = sorted.last.map { "\($0.offset) (\(percent($0.element)))" } ?? "-"
            lines.append(
                pad(String(layer.layer), 5) + "  " + pad(String(shares.count), 7) + "  " + pad(String(layer.tokens), 7) + "  "
                    + pad(String(format: "%.3f", entropy), 7) + "  " + pad(String(needed), 7) + "  " + pad(top, 18, left: false)
                    + "  " + least)
        }
        lines.append("")
        lines.append("entropy: mean nats of the softmax of the router logits; for-90%: experts holding 90% of the hard counts")
        return lines.joined(separator: "\n")
    }

    private static func percent(_ share: Double) -> String { String(format: "%.1f%%", share * 100) }

    private static func pad(_ s: String, _ width: Int, left: Bool = true) -> String {
        let fill = String(repeating: " ", count: max(0, width - s.count))
        return left ? fill + s : s + fill
    }
}
