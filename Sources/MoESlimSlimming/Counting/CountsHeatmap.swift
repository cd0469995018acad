import Foundation

/// The paper's Fig. 2 as SVG: one row per MoE layer, one column per expert, colour = the share of the layer's
/// tokens that select the expert. The scale is anchored at the uniform share k/E (white) and fitted to the data:
/// the darkest blue is the busiest expert, the deepest orange the least used one that is still selected, and
/// experts never selected get their own dark brown, so real maps (top-2-of-8 never reaches 8 × 1/E) are not pale.
/// It stays readable from 4 layers × 8 experts to 94 × 256: rows and columns are labelled every n-th, n chosen so
/// labels never overlap, small maps print the percentage in each cell, and large maps stay one rect per cell.
public enum CountsHeatmap {
    /// Maps up to this many layers and experts get the percentage printed in each cell.
    static let maxLayersWithNumbers = 16
    static let maxExpertsWithNumbers = 16
    static let labelFontSize = 10.0

    public static func svg(_ counts: ExpertCounts, title: String) -> String {
        let layers = counts.layers
        let experts = layers.map(\.hard.count).max() ?? 0
        let scale = ColourScale(layers)
        let numbers = layers.count <= maxLayersWithNumbers && experts <= maxExpertsWithNumbers
        let cellWidth = numbers ? 34 : max(4, min(18, 1100 / max(experts, 1)))
        let cellHeight = numbers ? 26 : max(cellWidth, min(14, 700 / max(layers.count, 1)))
        let fs = labelFontSize

        let rowLabels = layers.map { "L\($0.layer)" }
        let rowLabelWidth = Int((rowLabels.map { textWidth($0, fontSize: fs) }.max() ?? 0).rounded(.up))
        let left = 20 + 6 + rowLabelWidth + 6
        let top = 52
        let gridWidth = experts * cellWidth
        let gridHeight = layers.count * cellHeight

        let subtitle = "cell = % of the layer's \(counts.tokens) tokens that select the expert"
        // The body first: the canvas size is known only once the legend is laid out.
        var svg = """
            <text class="title" x="\(left)" y="18" font-size="13" font-weight="bold">\(escape(title))</text>
            <text class="subtitle" x="\(left)" y="36" font-size="11">\(escape(subtitle))</text>

            """
        var right = max(left + gridWidth, left + Int(textWidth(subtitle, fontSize: 11)), left + Int(textWidth(title, fontSize: 14)))

        // Cells: one rect each (with a tooltip); the percentage as text only when the map is small.
        let stroke = numbers ? " stroke=\"white\"" : ""
        for (row, layer) in layers.enumerated() {
            let y = top + row * cellHeight
            let shares = scale.tokenShares(layer)
            for (e, share) in shares.enumerated() {
                let x = left + e * cellWidth
                let t = scale.position(share: share, layer: layer)
                svg += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cellWidth)\" height=\"\(cellHeight)\" fill=\"\(colour(t))\"\(stroke)>"
                    + "<title>L\(layer.layer) E\(e): \(percent(share))% (\(Int(layer.hard[e])) tokens)</title></rect>\n"
                if numbers {
                    let ink = (t ?? 1) > 0.55 ? "white" : "black"
                    svg += "<text class=\"cell-value\" x=\"\(x + cellWidth / 2)\" y=\"\(y + cellHeight / 2 + 4)\" "
                        + "font-size=\"\(Int(fs))\" text-anchor=\"middle\" fill=\"\(ink)\">\(percent(share))</text>\n"
                }
            }
        }
        svg += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(gridWidth)\" height=\"\(gridHeight)\" fill=\"none\" stroke=\"#666\"/>\n"

        // Row labels every n-th layer, with a tick, and the axis title turned along the rows.
        var ticks = ""
        let rowIndices = labelled(count: layers.count, pitch: Double(cellHeight), labelSize: fs + 2)
        for row in rowIndices {
            let middle = top + row * cellHeight + cellHeight / 2
            ticks += "M\(left - 4) \(middle)h4"
            svg += "<text class=\"row-label\" x=\"\(left - 6)\" y=\"\(Double(middle) + 0.35 * fs)\" font-size=\"\(Int(fs))\" "
                + "text-anchor=\"end\">\(rowLabels[row])</text>\n"
        }
        svg += "<text class=\"axis-title\" x=\"16\" y=\"\(top + gridHeight / 2)\" font-size=\"11\" text-anchor=\"middle\" "
            + "transform=\"rotate(-90 16 \(top + gridHeight / 2))\">MoE layer</text>\n"

        // Column labels every n-th expert, sized for the widest number.
        let widest = textWidth(String(max(experts - 1, 0)), fontSize: fs)
        let columnY = top + gridHeight + 6 + Int(fs)
        for e in labelled(count: experts, pitch: Double(cellWidth), labelSize: widest + 4) {
            let middle = left + e * cellWidth + cellWidth / 2
            ticks += "M\(middle) \(top + gridHeight)v4"
            svg += "<text class=\"column-label\" x=\"\(middle)\" y=\"\(columnY)\" font-size=\"\(Int(fs))\" "
                + "text-anchor=\"middle\">\(e)</text>\n"
        }
        svg += "<path d=\"\(ticks)\" stroke=\"#666\"/>\n"
        let axisY = columnY + 16
        svg += "<text class=\"axis-title\" x=\"\(left + gridWidth / 2)\" y=\"\(axisY)\" font-size=\"11\" text-anchor=\"middle\">expert</text>\n"

        let legend = scale.legend(x: left, y: axisY + 12)
        svg += legend.svg
        right = max(right, legend.right)
        let width = right + 20
        let height = legend.bottom + 12
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" font-family="sans-serif" font-size="11">
            <rect width="100%" height="100%" fill="white"/>

            """ + svg + "</svg>\n"
    }

    /// Indices 0, n, 2n, … with n the first of 1, 2, 5, 10, 20, … (4, 8, 16, … for powers of two pitches) that
    /// keeps labels `labelSize` apart; the last index replaces the one before it when both do not fit, so the
    /// axis always shows where it ends.
    static func labelled(count: Int, pitch: Double, labelSize: Double) -> [Int] {
        guard count > 0 else { return [] }
        let steps = [1, 2, 4, 5, 8, 10, 16, 20, 32, 50, 64, 100, 128, 200, 256, 500, 1000]
        let step = steps.first { Double($0) * pitch >= labelSize } ?? count
        var indices = Array(stride(from: 0, to: count, by: step))
        let last = count - 1
        if indices.last != last {
            if Double(last - indices.last!) * pitch < labelSize, indices.count > 1 { indices.removeLast() }
            indices.append(last)
        }
        return indices
    }

    /// A conservative width for sans-serif text (DejaVu / Helvetica digits are about 0.64 em), so labels placed
    /// by it never overlap in any common renderer.
    static func textWidth(_ text: String, fontSize: Double) -> Double {
        text.unicodeScalars.reduce(0) { sum, c in
            switch c {
            case "%", "m", "w", "M", "W": return sum + 1.0 * fontSize
            case ".", ",", " ", "i", "l", "j", "f", "t", "r", "I", "'", "(", ")", "/", ":", ";": return sum + 0.4 * fontSize
            default: return sum + 0.75 * fontSize
            }
        }
    }

    /// The colour of a scale position: nil = never selected (dark brown), -1 … 0 = orange … white (uniform),
    /// 0 … 1 = white … dark blue.
    static func colour(_ t: Double?) -> String {
        guard let t else { return "#7f2704" }
        let (r, g, b): (Double, Double, Double) = t >= 0
            ? (255 - t * 247, 255 - t * 207, 255 - t * 148)
            : (255 + t * 2, 255 + t * 115, 255 + t * 225)
        return String(format: "#%02x%02x%02x", Int(r.rounded()), Int(g.rounded()), Int(b.rounded()))
    }

    /// A share of tokens (0 … 1) as a percentage with about three significant digits, without the % sign.
    static func percent(_ share: Double) -> String {
        let p = share * 100
        if p == 0 { return "0" }
        if p >= 9.95 { return String(Int(p.rounded())) }
        return p >= 0.995 ? String(format: "%.1f", p) : String(format: "%.2f", p)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
