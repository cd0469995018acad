import XCTest
@testable import MoESlimSupport
@testable import MoESlimSlimming

/// The counts file's own rules: merge adds every field, refuses mismatched layers, and the show / heatmap
/// outputs name every layer.
final class CountsFileTests: XCTestCase {
    private func counts(hard: [Double], tokens: Int, fingerprint: String = "m/L1/H4/V8/E[0:3]") -> ExpertCounts {
        var layer = ExpertCounts.Layer(layer: 0, experts: hard.count)
        layer.tokens = tokens
        layer.hard = hard
        layer.soft = hard.map { $0 / 2 }
        layer.softSoftmax = hard.map { $0 / 4 }
        layer.saliency = hard.map { $0 * 3 }
        layer.entropySum = Double(tokens)
        let json = """
            {"format": "moe-slim.counts", "version": 1, "model_type": "m", "fingerprint": "\(fingerprint)",
             "tokens": \(tokens), "sequences": 1, "layers": [], "settings": {}}
            """
        var c = try! ExpertCounts(json: JSONParser.parse(Array(json.utf8)), path: "t")
        c.layers = [layer]
        return c
    }

    func testMergeAddsEveryField() throws {
        let merged = try ExpertCounts.merged([(counts(hard: [1, 2, 3], tokens: 3), "a"), (counts(hard: [4, 0, 2], tokens: 3), "b")])
        XCTAssertEqual(merged.tokens, 6)
        XCTAssertEqual(merged.sequences, 2)
        XCTAssertEqual(merged.layers[0].hard, [5, 2, 5])
        XCTAssertEqual(merged.layers[0].soft, [2.5, 1, 2.5])
        XCTAssertEqual(merged.layers[0].saliency, [15, 6, 15])
        XCTAssertEqual(merged.layers[0].entropySum, 6)
        XCTAssertEqual(merged.settings["merged_from"], "a,b")
    }

    func testMergeRefusesOtherExpertCounts() {
        XCTAssertThrowsError(try ExpertCounts.merged([(counts(hard: [1, 2, 3], tokens: 3), "a"), (counts(hard: [1, 2], tokens: 3), "b")]))
        XCTAssertThrowsError(try ExpertCounts.merged([
            (counts(hard: [1, 2, 3], tokens: 3), "a"), (counts(hard: [1, 2, 3], tokens: 3, fingerprint: "other"), "b"),
        ]))
    }

    func testTableAndHeatmapShowEveryLayer() {
        let c = counts(hard: [6, 0, 0], tokens: 3)
        let table = CountsTable.text(c)
        XCTAssertTrue(table.contains("0 (100.0%)"), table)
        let svg = CountsHeatmap.svg(c, title: "t")
        XCTAssertTrue(svg.contains("layer 0 expert 0: 100% (6 tokens)"), svg)
        XCTAssertEqual(CountsHeatmap.colour(1), "rgb(255,255,255)")
    }
}
