import Foundation
import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies

/// Super experts (Su et al. 2025, "Unveiling Super Experts in Mixture-of-Experts LLMs"): the few experts whose
/// down projection produces the model's massive activations; pruning them makes a model degenerate. They are
/// found from the counts' `max_abs_output` by REAP's rule (CerebrasResearch/reap, `get_super_expert_indices`):
/// over every expert of every MoE layer, the threshold is the larger of the 99.5th percentile (linear
/// interpolation, as torch.quantile) and a tenth of the largest value; an expert is super when its value is above
/// it, in the first 75% of the MoE layers (REAP's `--perserve_super_experts`; its outlier variant takes all).
public struct SuperExperts: Sendable {
    /// Which experts count as super.
    public struct Rule: Sendable, Equatable {
        /// A threshold on max_abs_output; nil for REAP's (percentile and max ÷ 10).
        public var threshold: Double?
        /// Every MoE layer, not only the first 75%.
        public var allLayers: Bool

        public init(threshold: Double? = nil, allLayers: Bool = false) {
            self.threshold = threshold
            self.allLayers = allLayers
        }
    }

    public struct Expert: Sendable, Equatable {
        public let layer: Int
        public let expert: Int
        public let maxAbsOutput: Double
    }

    /// The threshold applied.
    public let threshold: Double
    /// The MoE layers looked at, counted from the first.
    public let layersConsidered: Int
    public let experts: [Expert]

    /// Refuses counts from an older calibrate, which have no max_abs_output.
    public init(counts: ExpertCounts, rule: Rule, path: String) throws(MoESlimError) {
        guard counts.layers.allSatisfy({ !$0.sums[.maxAbsOutput].isEmpty }) else {
            throw MoESlimError(.invalidCounts, "the counts have no max_abs_output (written by an older calibrate); re-run calibrate to find super experts", path: path)
        }
        let values = counts.layers.flatMap { $0.sums[.maxAbsOutput] }
        let threshold = rule.threshold ?? Self.reapThreshold(values)
        let considered = rule.allLayers ? counts.layers.count : Int(Double(counts.layers.count) * 0.75)
        self.threshold = threshold
        layersConsidered = considered
        experts = counts.layers.prefix(considered).flatMap { layer in
            layer.sums[.maxAbsOutput].enumerated().compactMap { e, value in
                value > threshold ? Expert(layer: layer.layer, expert: e, maxAbsOutput: value) : nil
            }
        }
    }

    /// max(99.5th percentile, largest ÷ 10) over all values, the percentile as torch.quantile's linear one.
    static func reapThreshold(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let position = 0.995 * Double(sorted.count - 1)
        let low = Int(position.rounded(.down)), high = min(low + 1, sorted.count - 1)
        let percentile = sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
        return max(percentile, sorted[sorted.count - 1] / 10)
    }

    /// One line per super expert, for `counts show` and prune.
    public var lines: [String] {
        let scope = layersConsidered == 1 ? "the first MoE layer" : "the first \(layersConsidered) MoE layers"
        let head = "super experts (max |expert output| above \(String(format: "%.6g", threshold)), in \(scope)): \(experts.count)"
        return [head] + experts.map { "  layer \($0.layer) expert \($0.expert): \(String(format: "%.6g", $0.maxAbsOutput))" }
    }
}
