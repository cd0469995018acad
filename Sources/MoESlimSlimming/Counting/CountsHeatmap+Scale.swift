import Foundation

extension CountsHeatmap {
    /// The colour scale of one heatmap, in multiples of the uniform share k/E (k = the layer's top-k, from its hard
    /// counts; E = its experts). It runs on a log scale from the least used expert that is still selected (deepest
    /// orange) through k/E (white) to the busiest (darkest blue), but at least from k/E ÷ 2 to k/E × 2, so a nearly
    /// uniform map stays pale instead of turning small differences into strong colours.
    struct ColourScale {
        let low: Double
        let high: Double
        /// k/E when every layer has the same, so the legend can speak in % of tokens; nil otherwise.
        let uniform: Double?
        let k: Double?
        let experts: Int?
        let unused: Int

        init(_ layers: [ExpertCounts.Layer]) {
            var ratios: [Double] = []
            var uniforms: Set<Double> = []
            var ks: Set<Double> = []
            var unused = 0
            for layer in layers {
                let total = layer.hard.reduce(0, +)
                unused += layer.hard.filter { $0 == 0 }.count
                guard total > 0, layer.tokens > 0 else { continue }
                ratios += layer.hard.filter { $0 > 0 }.map { $0 * Double(layer.experts) / total }
                uniforms.insert(Self.uniformShare(layer))
                ks.insert(total / Double(layer.tokens))
            }
            low = min(0.5, ratios.min() ?? 0.5)
            high = max(2, ratios.max() ?? 2)
            uniform = uniforms.count == 1 ? uniforms.first : nil
            k = ks.count == 1 ? ks.first : nil
            let counts = Set(layers.map(\.experts))
            experts = counts.count == 1 ? counts.first : nil
            self.unused = unused
        }

        /// k/E of one layer: its hard counts sum to tokens × k.
        static func uniformShare(_ layer: ExpertCounts.Layer) -> Double {
            let total = layer.hard.reduce(0, +)
            return layer.tokens > 0 && layer.experts > 0 ? total / Double(layer.tokens) / Double(layer.experts) : 0
        }

        /// Each expert's share of the layer's tokens (hard count / tokens; they add up to k).
        func tokenShares(_ layer: ExpertCounts.Layer) -> [Double] {
            layer.hard.map { layer.tokens > 0 ? $0 / Double(layer.tokens) : 0 }
        }

        /// -1 (least used) … 0 (uniform) … 1 (busiest); nil for an expert never selected.
        func position(share: Double, layer: ExpertCounts.Layer) -> Double? {
            let u = Self.uniformShare(layer)
            guard share > 0, u > 0 else { return nil }
            return position(ratio: share / u)
        }

        func position(ratio: Double) -> Double {
            let t = ratio >= 1 ? log(ratio) / log(high) : -log(ratio) / log(low)
            return max(-1, min(1, t))
        }

        /// How the legend names a multiple of k/E: as % of tokens when every layer has the same k/E.
        func label(ratio: Double) -> String {
            if let uniform { return CountsHeatmap.percent(ratio * uniform) + "%" }
            return (ratio >= 10 || ratio == ratio.rounded() ? String(Int(ratio.rounded())) : String(format: "%.2f", ratio)) + "×k/E"
        }

        /// A gradient bar on the same log scale, k/E marked above it, its ends and the powers of two between
        /// them below it (each only if it keeps clear of those already placed), and a swatch for unused experts.
        func legend(x: Int, y: Int) -> (svg: String, right: Int, bottom: Int) {
            let fs = CountsHeatmap.labelFontSize
            let barWidth = 360.0
            let barY = y + Int(fs) + 6
            let span = log(high) - log(low)
            func offset(_ ratio: Double) -> Double { (log(ratio) - log(low)) / span * barWidth }
            let uniformX = Double(x) + offset(1)
            let middle = String(format: "%.4f", offset(1) / barWidth)
            var svg = """
                <defs><linearGradient id="scale"><stop offset="0" stop-color="\(CountsHeatmap.colour(-1))"/>\
                <stop offset="\(middle)" stop-color="#ffffff"/><stop offset="1" stop-color="\(CountsHeatmap.colour(1))"/></linearGradient></defs>
                <rect x="\(x)" y="\(barY)" width="\(Int(barWidth))" height="12" fill="url(#scale)" stroke="#999"/>
                <path d="M\(uniformX) \(barY - 3)v18" stroke="black"/>

                """
            let kText = k.map { $0 == $0.rounded() ? String(Int($0)) : String(format: "%.2f", $0) } ?? "k"
            let eText = experts.map(String.init) ?? "E"
            let uniformText = "uniform k/E = \(kText)/\(eText)" + (uniform.map { " = " + String(format: "%.3g", $0 * 100) + "%" } ?? "")
            let uniformCentre = max(uniformX, 4 + CountsHeatmap.textWidth(uniformText, fontSize: fs) / 2)
            svg += "<text class=\"legend-label\" x=\"\(uniformCentre)\" y=\"\(y + Int(fs))\" font-size=\"\(Int(fs))\" text-anchor=\"middle\">\(uniformText)</text>\n"

            var candidates = [low, high]
            var power = 2.0
            while power < high { candidates.append(power); power *= 2 }
            power = 0.5
            while power > low { candidates.append(power); power /= 2 }
            var placed: [(from: Double, to: Double)] = []
            let labelY = barY + 12 + 4 + Int(fs)
            for ratio in candidates {
                let text = label(ratio: ratio)
                let centre = Double(x) + offset(ratio)
                let half = CountsHeatmap.textWidth(text, fontSize: fs) / 2
                guard !placed.contains(where: { centre - half < $0.to + 6 && centre + half > $0.from - 6 }) else { continue }
                placed.append((centre - half, centre + half))
                svg += "<path d=\"M\(centre) \(barY + 12)v3\" stroke=\"#999\"/><text class=\"legend-label\" x=\"\(centre)\" y=\"\(labelY)\" "
                    + "font-size=\"\(Int(fs))\" text-anchor=\"middle\">\(text)</text>\n"
            }
            var right = max(Double(x) + barWidth, uniformCentre + CountsHeatmap.textWidth(uniformText, fontSize: fs) / 2,
                            placed.map(\.to).max() ?? 0)
            if unused > 0 {
                let swatchX = Int(right) + 24
                let text = "never selected (\(unused))"
                svg += "<rect x=\"\(swatchX)\" y=\"\(barY)\" width=\"12\" height=\"12\" fill=\"\(CountsHeatmap.colour(nil))\" stroke=\"#999\"/>"
                    + "<text class=\"legend-label\" x=\"\(swatchX + 16)\" y=\"\(barY + 10)\" font-size=\"\(Int(fs))\">\(text)</text>\n"
                right = Double(swatchX + 16) + CountsHeatmap.textWidth(text, fontSize: fs)
            }
            return (svg, Int(right.rounded(.up)), labelY + 4)
        }
    }
}
