import MoESlimSupport
import MoESlimFamilies
import MoESlimSlimming

/// The section prune appends to the output's README.md (the model card), so that a published pruned model
/// says what was removed, how it was chosen and from what data; the original card stays above it.
struct ModelCardNote {
    var source: String
    var model: ModelDescription
    var plan: PruningPlan
    /// How the experts were chosen: "criterion `hard` ..., strategy `layer`", or the plan file.
    var how: String
    var counts: ExpertCounts?
    var countsPath: String?

    var text: String {
        let layers = model.moeLayers
        let kept = layers.map { plan.keptExperts(layer: $0).count }
        let total = layers.map(\.numExperts)
        var lines = ["", "## Pruned with moe-slim", ""]
        lines.append("This checkpoint is `\(source)` with experts removed by moe-slim \(MoESlimVersion.string) (SEER-MoE heavy-hitters pruning, arXiv 2404.05089); it has not been fine-tuned since.")
        lines.append("")
        if Set(kept).count == 1, Set(total).count == 1 {
            lines.append("- Experts kept: \(kept[0]) of \(total[0]) in each of the \(layers.count) MoE layers (the same in every layer, so stock transformers loads it).")
        } else {
            let perLayer = zip(layers, zip(kept, total)).map { "\($0.layer): \($1.0)/\($1.1)" }.joined(separator: ", ")
            lines.append("- Experts kept per MoE layer (layer: kept/original): \(perLayer). The counts differ by layer, so loading needs `moe_slim.experts_per_layer` from config.json.")
        }
        let originalTopK = layers.first?.topK
        if let topK = plan.topK, topK != originalTopK {
            lines.append("- Experts per token (top-k): lowered from \(originalTopK.map(String.init) ?? "?") to \(topK); fine-tuning is advised.")
        } else if let originalTopK {
            lines.append("- Experts per token (top-k): \(originalTopK), unchanged.")
        }
        lines.append("- Chosen by: \(how).")
        if let counts {
            let data = counts.settings["data"] ?? "?"
            var provenance = "- Calibration data: \(counts.tokens) tokens in \(counts.sequences) sequences of `\(data)`"
            if let shard = counts.settings["shard"] { provenance += " (shard \(shard))" }
            if let compute = counts.settings["compute"] { provenance += ", run with --compute \(compute)" }
            provenance += "; counts file `\(countsPath ?? "?")`, fingerprint \(counts.fingerprint)."
            lines.append(provenance)
        }
        lines.append("- How it compares with the original on your data: `moe-slim eval ORIGINAL --against THIS --data FILE`.")
        return lines.joined(separator: "\n") + "\n"
    }
}
