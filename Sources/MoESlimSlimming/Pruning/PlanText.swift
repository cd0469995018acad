import MoESlimFamilies

/// A plan as people read it: per MoE layer, how many experts stay and which.
public enum PlanText {
    public static func describe(_ plan: PruningPlan, model: ModelDescription) -> String {
        var lines = ["plan: keep experts (original ids)" + (plan.topK.map { ", top-k \($0)" } ?? "")]
        for layer in model.moeLayers {
            let kept = plan.keptExperts(layer: layer)
            lines.append("  layer \(layer.layer): \(kept.count)/\(layer.numExperts)  [\(kept.map(String.init).joined(separator: " "))]")
        }
        return lines.joined(separator: "\n")
    }
}
