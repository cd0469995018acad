import Foundation
import XCTest
@testable import MoESlimSlimming

/// `counts show --heatmap` as a person reads it, from 4 layers × 8 experts to 94 × 256: every n-th row and column
/// labelled up to the last, no two labels overlapping, numbers in the cells only when the map is small, a legend
/// spanning the data's range around k/E, and an SVG that stays one rect per cell when the map is large.
final class HeatmapTests: XCTestCase {
    /// One `<text>` of the SVG with the box it covers; widths are estimated at least as wide as DejaVu Sans /
    /// Helvetica draw them (digits 0.64 em), independently of the renderer's own estimate.
    struct Label {
        var kind: String
        var text: String
        var box: (x0: Double, y0: Double, x1: Double, y1: Double)
    }

    struct Heatmap {
        var svg: String
        var width: Double
        var height: Double
        var labels: [Label]
        func texts(_ kind: String) -> [String] { labels.filter { $0.kind == kind }.map(\.text) }
    }

    // MARK: - Fixtures

    /// A counts file (formats/counts.md) whose layers have these hard counts; sums must be tokens × k.
    private func writeCounts(_ hard: [[Int]], tokens: Int, to path: String) throws {
        let fingerprint = "m/L\(hard.count)/H4/V8/E[" + hard.indices.map { "\($0):\(hard[$0].count)" }.joined(separator: ",") + "]"
        let layers = hard.enumerated().map { layer, counts in
            let k = counts.reduce(0, +) / tokens
            let list = { (f: (Int) -> String) in "[" + counts.map(f).joined(separator: ",") + "]" }
            return "{\"layer\":\(layer),\"tokens\":\(tokens),\"hard\":\(list { String($0) }),\"soft\":\(list { "\(Double($0) / Double(k))" }),"
                + "\"soft_softmax\":\(list { "\(Double($0) / Double(k))" }),\"saliency\":\(list { _ in "0" }),\"entropy_sum\":1}"
        }
        let json = "{\"format\":\"moe-slim.counts\",\"version\":1,\"model_type\":\"m\",\"fingerprint\":\"\(fingerprint)\","
            + "\"tokens\":\(tokens),\"sequences\":1,\"layers\":[\(layers.joined(separator: ","))],\"settings\":{}}"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Skewed, deterministic top-k routing: token t picks k consecutive experts from a quadratic start, so some
    /// experts are busy, some rare and some never selected.
    private func skewedCounts(layers: Int, experts: Int, k: Int, tokens: Int) -> [[Int]] {
        (0..<layers).map { layer in
            var hard = Array(repeating: 0, count: experts)
            for t in 0..<tokens {
                let start = (t * t + 3 * layer * t + layer) % experts
                for j in 0..<k { hard[(start + j) % experts] += 1 }
            }
            return hard
        }
    }

    private func render(_ hard: [[Int]], tokens: Int) throws -> Heatmap {
        let dir = NSTemporaryDirectory() + "heatmap-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeCounts(hard, tokens: tokens, to: dir + "/c.json")
        let result = try CommandRunner.run(["counts", "show", dir + "/c.json", "--heatmap", dir + "/h.svg"])
        XCTAssertEqual(result.status, 0, result.stderr)
        return try parse(String(contentsOfFile: dir + "/h.svg", encoding: .utf8))
    }

    // MARK: - Reading the SVG

    private func matches(_ pattern: String, in text: String) -> [[String]] {
        let regex = try! NSRegularExpression(pattern: pattern)
        let ns = text as NSString
        return regex.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { m in
            (0..<m.numberOfRanges).map { ns.substring(with: m.range(at: $0)) }
        }
    }

    private func attributes(_ tag: String) -> [String: String] {
        Dictionary(matches("([a-z-]+)=\"([^\"]*)\"", in: tag).map { ($0[1], $0[2]) }) { a, _ in a }
    }

    private static func estimatedWidth(_ text: String, fontSize: Double) -> Double {
        text.unicodeScalars.reduce(0) { sum, c in
            sum + fontSize * ("%mwMW".unicodeScalars.contains(c) ? 0.95 : ".,: ilj'()/;".unicodeScalars.contains(c) ? 0.35 : 0.66)
        }
    }

    private func parse(_ svg: String) throws -> Heatmap {
        let root = attributes(try XCTUnwrap(matches("<svg [^>]*>", in: svg).first)[0])
        let labels = matches("<text ([^>]*)>([^<]*)</text>", in: svg).map { m -> Label in
            let a = attributes(m[1])
            let size = Double(a["font-size"] ?? "11")!
            let (x, y) = (Double(a["x"]!)!, Double(a["y"]!)!)
            let width = Self.estimatedWidth(m[2], fontSize: size)
            let start = a["text-anchor"] == "middle" ? -width / 2 : a["text-anchor"] == "end" ? -width : 0
            if a["transform"]?.hasPrefix("rotate(-90") == true {
                return Label(kind: a["class"] ?? "", text: m[2], box: (x - 0.75 * size, y - start - width, x + 0.2 * size, y - start))
            }
            return Label(kind: a["class"] ?? "", text: m[2], box: (x + start, y - 0.75 * size, x + start + width, y + 0.2 * size))
        }
        return Heatmap(svg: svg, width: Double(root["width"]!)!, height: Double(root["height"]!)!, labels: labels)
    }

    /// No two labels (cell numbers aside, which sit inside their cells) overlap, and all lie on the canvas.
    private func assertReadable(_ map: Heatmap, file: StaticString = #filePath, line: UInt = #line) {
        let labels = map.labels.filter { $0.kind != "cell-value" }
        for (i, a) in labels.enumerated() {
            XCTAssertTrue(a.box.x0 >= 0 && a.box.y0 >= 0 && a.box.x1 <= map.width && a.box.y1 <= map.height,
                          "\(a.kind) '\(a.text)' \(a.box) is off the \(map.width)×\(map.height) canvas", file: file, line: line)
            for b in labels[(i + 1)...] where a.box.x0 < b.box.x1 && b.box.x0 < a.box.x1 && a.box.y0 < b.box.y1 && b.box.y0 < a.box.y1 {
                XCTFail("\(a.kind) '\(a.text)' \(a.box) overlaps \(b.kind) '\(b.text)' \(b.box)", file: file, line: line)
            }
        }
    }

    /// Labels are 0, n, 2n, … and end at the last index (which may stand closer to the one before it).
    private func assertEveryNth(_ indices: [Int], count: Int, step: Int, file: StaticString = #filePath, line: UInt = #line) {
        var expected = Array(stride(from: 0, to: count, by: step))
        if expected.last != count - 1 { expected.append(count - 1) }
        if indices.count == expected.count - 1 { expected.remove(at: expected.count - 2) }
        XCTAssertEqual(indices, expected, file: file, line: line)
    }

    private func fill(_ map: Heatmap, layer: Int, expert: Int) -> String? {
        matches("fill=\"(#[0-9a-f]{6})\"[^>]*><title>L\(layer) E\(expert):", in: map.svg).first?[1]
    }

    // MARK: - Tests

    /// 4 × 8, top-2: every row and column labelled, a percentage in each cell, the legend from the least used
    /// selected expert (5%) through k/E = 25% to the busiest (100%), and the never-selected experts counted.
    func testSmallMapHasEveryLabelAndNumbersInCells() throws {
        let hard = [[100, 50, 25, 25, 0, 0, 0, 0], [5, 45, 25, 25, 25, 25, 25, 25],
                    [25, 25, 25, 25, 25, 25, 25, 25], [40, 10, 25, 25, 25, 25, 25, 25]]
        let map = try render(hard, tokens: 100)
        XCTAssertEqual(map.texts("row-label"), ["L0", "L1", "L2", "L3"])
        XCTAssertEqual(map.texts("column-label"), (0..<8).map(String.init))
        XCTAssertEqual(map.texts("axis-title"), ["MoE layer", "expert"])
        let cells = map.texts("cell-value")
        XCTAssertEqual(cells.count, 32)
        XCTAssertEqual(Array(cells[0..<8]), ["100", "50", "25", "25", "0", "0", "0", "0"])
        XCTAssertEqual(cells[8], "5.0")
        XCTAssertEqual(map.texts("legend-label"), ["uniform k/E = 2/8 = 25%", "5.0%", "100%", "50%", "13%", "never selected (4)"])
        XCTAssertEqual(fill(map, layer: 0, expert: 0), CountsHeatmap.colour(1), "the busiest expert is the darkest blue")
        XCTAssertEqual(fill(map, layer: 1, expert: 0), CountsHeatmap.colour(-1), "the least used is the deepest orange")
        XCTAssertEqual(fill(map, layer: 2, expert: 3), "#ffffff", "k/E is white")
        XCTAssertEqual(fill(map, layer: 0, expert: 7), CountsHeatmap.colour(nil))
        XCTAssertTrue(map.width <= 900 && map.height <= 320, "\(map.width)×\(map.height)")
        assertReadable(map)
    }

    /// A nearly uniform map keeps the scale at least ÷2 … ×2 around k/E, so it stays pale.
    func testNearlyUniformMapStaysPale() throws {
        let map = try render([[26, 24, 25, 25, 25, 25, 25, 25]], tokens: 100)
        XCTAssertEqual(map.texts("legend-label"), ["uniform k/E = 2/8 = 25%", "13%", "50%"])
        XCTAssertEqual(fill(map, layer: 0, expert: 0), CountsHeatmap.colour(log(26.0 / 25) / log(2)))
        assertReadable(map)
    }

    /// 48 × 128, top-8: every row (14 px each), every 4th expert; cells without text; the legend's ends are the
    /// data's least used selected and busiest experts.
    func testQwen3SizedMap() throws {
        let hard = skewedCounts(layers: 48, experts: 128, k: 8, tokens: 400)
        let map = try render(hard, tokens: 400)
        XCTAssertEqual(map.texts("row-label"), (0..<48).map { "L\($0)" })
        assertEveryNth(map.texts("column-label").map { Int($0)! }, count: 128, step: 4)
        XCTAssertEqual(map.texts("column-label").count, 32)
        XCTAssertEqual(map.texts("cell-value"), [])
        let shares = hard.flatMap { $0 }.map { Double($0) / 400 }
        let legend = map.labels.filter { $0.kind == "legend-label" && $0.text.hasSuffix("%") && !$0.text.hasPrefix("uniform") }
        XCTAssertEqual(legend.min { $0.box.x0 < $1.box.x0 }?.text, CountsHeatmap.percent(shares.filter { $0 > 0 }.min()!) + "%")
        XCTAssertEqual(legend.max { $0.box.x0 < $1.box.x0 }?.text, CountsHeatmap.percent(shares.max()!) + "%")
        XCTAssertTrue(map.texts("legend-label").contains("uniform k/E = 8/128 = 6.25%"), "\(map.texts("legend-label"))")
        XCTAssertTrue((1000...1200).contains(map.width) && (700...950).contains(map.height), "\(map.width)×\(map.height)")
        assertReadable(map)
    }

    /// 94 × 256 (Qwen3-235B's shape): every 2nd layer and 8th expert, L93 and 255 shown; one rect per cell and
    /// no per-cell text keep the file near 100 bytes a cell.
    func testLargestMapStaysBoundedAndReadable() throws {
        let hard = skewedCounts(layers: 94, experts: 256, k: 8, tokens: 300)
        let map = try render(hard, tokens: 300)
        assertEveryNth(map.texts("row-label").map { Int($0.dropFirst())! }, count: 94, step: 2)
        XCTAssertEqual(map.texts("row-label").last, "L93")
        assertEveryNth(map.texts("column-label").map { Int($0)! }, count: 256, step: 8)
        XCTAssertEqual(map.texts("column-label").last, "255")
        XCTAssertEqual(map.texts("cell-value"), [])
        XCTAssertEqual(matches("<rect [^>]*><title>", in: map.svg).count, 94 * 256)
        XCTAssertLessThan(map.svg.utf8.count, 94 * 256 * 110, "bytes")
        XCTAssertTrue((1000...1200).contains(map.width) && (700...950).contains(map.height), "\(map.width)×\(map.height)")
        assertReadable(map)
    }
}
