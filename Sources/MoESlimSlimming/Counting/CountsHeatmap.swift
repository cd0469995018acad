import Foundation

/// The paper's Fig. 2 as SVG: one row per MoE layer, one column per expert, colour = the expert's share of
/// the layer's hard counts. The scale is anchored at the uniform share 1/E (white) so heavy hitters show dark
/// and idle experts show orange at a glance, whatever the expert count.
public enum CountsHeatmap {
    public static func svg(_ counts: ExpertCounts, title: String) -> String {
        let layers = counts.layers
        let experts = layers.map(\.hard.count).max() ?? 0
        let cell = max(4, min(18, 1100 / max(experts, 1)))
        let left = 70, top = 50, legend = 40
        let subtitle = "share of hard counts per layer (\(counts.tokens) tokens); white = uniform 1/E, blue = more, orange = less"
        // Wide enough for the subtitle and the seven-step legend, not only the grid (about 6 px per character).
        let width = max(left + experts * cell, left + subtitle.count * 6, left + 7 * 70) + 20
        let height = top + layers.count * cell + legend + 30
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" font-family="sans-serif" font-size="11">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(left)" y="18" font-size="13" font-weight="bold">\(escape(title))</text>
            <text x="\(left)" y="36">\(subtitle)</text>

            """
        for (row, layer) in layers.enumerated() {
            let y = top + row * cell
            svg += "<text x=\"\(left - 6)\" y=\"\(y + cell - 2)\" text-anchor=\"end\">L\(layer.layer)</text>\n"
            let shares = ExpertCounts.hardShares(layer)
            for (e, share) in shares.enumerated() {
                let ratio = share * Double(shares.count)
                svg += "<rect x=\"\(left + e * cell)\" y=\"\(y)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"\(colour(ratio))\"><title>layer \(layer.layer) expert \(e): \(format(share * 100))% (\(Int(layer.hard[e])) tokens)</title></rect>\n"
            }
        }
        let axisY = top + layers.count * cell + 14
        svg += "<text x=\"\(left)\" y=\"\(axisY)\">expert 0</text>\n"
        svg += "<text x=\"\(left + experts * cell)\" y=\"\(axisY)\" text-anchor=\"end\">expert \(experts - 1)</text>\n"
        let legendY = axisY + 10
        for (i, ratio) in [0, 0.25, 0.5, 1, 2, 4, 8].enumerated() {
            let x = left + i * 70
            svg += "<rect x=\"\(x)\" y=\"\(legendY)\" width=\"14\" height=\"14\" fill=\"\(colour(ratio))\" stroke=\"#999\"/>"
            svg += "<text x=\"\(x + 18)\" y=\"\(legendY + 11)\">\(format(ratio))×1/E</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// log2 of share·E mapped to orange (idle) … white (uniform) … dark blue (heavy hitter), clipped at 8×.
    static func colour(_ ratio: Double) -> String {
        let t = max(-1, min(1, (ratio > 0 ? log2(ratio) : -3) / 3))
        let (r, g, b): (Double, Double, Double) = t >= 0
            ? (255 - t * 247, 255 - t * 207, 255 - t * 148)
            : (255 + t * 2, 255 + t * 115, 255 + t * 225)
        return "rgb(\(Int(r)),\(Int(g)),\(Int(b)))"
    }

    static func format(_ v: Double) -> String {
        v >= 10 || v == v.rounded() ? String(Int(v.rounded())) : String(format: "%.2f", v)
    }

    private static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
