import XCTest
@testable import MoESlimSupport
@testable import MoESlimEngine
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

    /// ean adds up, max_abs_output merges as a maximum, both exactly; a file from before them (no such keys)
    /// still reads and writes, and merging it with a newer file drops what only one of them has.
    func testStatisticsAddedLaterAreOptionalAndMergeByTheirRule() throws {
        func newer(_ hard: [Double], ean: [Double], maxima: [Double]) -> ExpertCounts {
            var c = counts(hard: hard, tokens: 3)
            c.layers[0].sums[.ean] = ean
            c.layers[0].sums[.maxAbsOutput] = maxima
            c.layers[0].exact = ExactSums(approximating: c.layers[0])
            return c
        }
        let a = newer([1, 2, 3], ean: [0.5, 1, 2], maxima: [0.25, 4, 1])
        let b = newer([4, 0, 2], ean: [1, 0, 1.5], maxima: [0.5, 0, 3])
        let merged = try ExpertCounts.merged([(a, "a"), (b, "b")])
        XCTAssertEqual(merged.layers[0].sums[.ean], [1.5, 1, 3.5])
        XCTAssertEqual(merged.layers[0].sums[.maxAbsOutput], [0.5, 4, 3])
        XCTAssertEqual(merged.layers[0].exact?.units[.maxAbsOutput], [0.5, 4, 3].map(ExactSums.units))
        let reread = try ExpertCounts(json: JSONParser.parse(Array(merged.encoded().utf8)), path: "m")
        XCTAssertEqual(reread.layers, merged.layers)

        var older = counts(hard: [4, 0, 2], tokens: 3)
        older.layers[0].sums[.ean] = []
        older.layers[0].sums[.maxAbsOutput] = []
        let text = older.encoded()
        XCTAssertFalse(text.contains("\"ean\"") || text.contains("max_abs_output"), text)
        let old = try ExpertCounts(json: JSONParser.parse(Array(text.utf8)), path: "old")
        XCTAssertEqual(old.layers[0].sums[.ean], [])
        let mixed = try ExpertCounts.merged([(a, "a"), (old, "old")])
        XCTAssertEqual(mixed.layers[0].sums[.ean], [])
        XCTAssertEqual(mixed.layers[0].sums[.maxAbsOutput], [])
        XCTAssertEqual(mixed.layers[0].hard, [5, 2, 5])
    }

    /// A statistic added later is in every layer or in none, with a list per expert, and in `exact` when the layer has it.
    func testStatisticsAddedLaterAreCheckedLikeTheOthers() throws {
        var c = counts(hard: [2, 2, 2], tokens: 3, fingerprint: "m/L2/H4/V8/E[0:3,1:3]")
        var second = c.layers[0]
        second.layer = 1
        c.layers.append(second)
        c.layers[0].sums[.ean] = [1, 1, 1]
        c.layers[1].sums[.ean] = []
        func refusal(_ counts: ExpertCounts) -> String {
            do {
                try CountsRules.check(counts, path: "c.json")
                return "accepted"
            } catch { return "\(error)" }
        }
        XCTAssertEqual(refusal(c), "c.json: layers[1] has no ean but layers[0] has; a statistic is in every layer or in none")
        c.layers[1].sums[.ean] = [1, 1]
        XCTAssertEqual(refusal(c), "c.json: layers[1] has lists of different lengths (hard 3, soft 3, soft_softmax 3, saliency 3, ean 2, max_abs_output 3, output_sketch 3)")
        c.layers[1].sums[.ean] = [1, 1, 1]
        XCTAssertEqual(refusal(c), "accepted")
        c.layers[0].exact = ExactSums(approximating: c.layers[0])
        c.layers[0].exact?.units[.ean] = []
        XCTAssertEqual(refusal(c), "c.json: layers[0].exact has lists of another length than hard (3), or has a statistic the layer has not")
    }

    /// output_sketch: one list of 64 signed numbers per expert, with signed decimal strings in `exact`; shard
    /// files add up exactly, and a file without it (every file before issue 17's merge similarity) still reads.
    func testOutputSketchIsSignedPerExpertAndMergesExactly() throws {
        let width = OutputSketch.width
        func sketched(_ hard: [Double], _ value: (Int) -> Double) -> ExpertCounts {
            var c = counts(hard: hard, tokens: 3)
            c.layers[0].sums[.outputSketch] = (0..<(hard.count * width)).map(value)
            c.layers[0].exact = ExactSums(approximating: c.layers[0])
            return c
        }
        let a = sketched([1, 2, 3]) { Double($0 % 7) - 3.25 }
        let b = sketched([4, 0, 2]) { 0.1 * Double($0) - 5 }
        let text = a.encoded()
        XCTAssertTrue(text.contains("\"output_sketch\":[[-3.25,-2.25,"), String(text.prefix(400)))
        XCTAssertTrue(text.contains("\"-59951918239556042752\""), "-3.25 in units of 2^-64")
        let reread = try ExpertCounts(json: JSONParser.parse(Array(text.utf8)), path: "a")
        XCTAssertEqual(reread.layers, a.layers)
        try CountsRules.check(reread, path: "a")

        let merged = try ExpertCounts.merged([(a, "a"), (b, "b")])
        let units = try XCTUnwrap(merged.layers[0].exact?.units[.outputSketch])
        let expected = zip(a.layers[0].exact!.units[.outputSketch], b.layers[0].exact!.units[.outputSketch]).map { $0 + $1 }
        XCTAssertEqual(units, expected)
        XCTAssertEqual(merged.layers[0].sums[.outputSketch], expected.map(ExactSums.value))

        var older = counts(hard: [4, 0, 2], tokens: 3)
        older.layers[0].sums[.outputSketch] = []
        let oldText = older.encoded()
        XCTAssertFalse(oldText.contains("output_sketch"))
        let old = try ExpertCounts(json: JSONParser.parse(Array(oldText.utf8)), path: "old")
        XCTAssertEqual(old.layers[0].sums[.outputSketch], [])
        XCTAssertEqual(try ExpertCounts.merged([(a, "a"), (old, "old")]).layers[0].sums[.outputSketch], [])
    }

    func testMalformedOutputSketchIsRefusedByKey() throws {
        var c = counts(hard: [1, 2, 3], tokens: 3)
        c.layers[0].sums[.outputSketch] = (0..<(3 * OutputSketch.width)).map { -Double($0) }
        c.layers[0].exact = ExactSums(approximating: c.layers[0])
        let text = c.encoded()
        func refusal(_ edited: String) -> String {
            do {
                _ = try ExpertCounts(json: JSONParser.parse(Array(edited.utf8)), path: "c.json")
                return "accepted"
            } catch { return "\(error)" }
        }
        XCTAssertEqual(refusal(text.replacingOccurrences(of: "\"output_sketch\":[[0,-1,", with: "\"output_sketch\":[[-1,")),
                       "c.json: layers[0].output_sketch[0] is not a list of 64 numbers")
        XCTAssertEqual(refusal(text.replacingOccurrences(of: "\"output_sketch\":[[0,", with: "\"output_sketch\":[[1e999,")),
                       "c.json: layers[0].output_sketch[0][0] is 1e999, not finite")
        XCTAssertEqual(refusal(text.replacingOccurrences(of: "\"output_sketch\":[[\"0\",", with: "\"output_sketch\":[[\"+0\",")),
                       "c.json: layers[0].exact.output_sketch[0][0] is not an integer in a string")
        XCTAssertEqual(refusal(text.replacingOccurrences(of: "\"saliency\":[3,", with: "\"saliency\":[-3,")),
                       "c.json: layers[0].saliency[0] is -3, negative")
    }

    func testTableAndHeatmapShowEveryLayer() {
        let c = counts(hard: [6, 0, 0], tokens: 3)
        let table = CountsTable.text(c)
        XCTAssertTrue(table.contains("0 (100.0%)"), table)
        let svg = CountsHeatmap.svg(c, title: "t")
        XCTAssertTrue(svg.contains("L0 E0: 200% (6 tokens)"), svg)
        XCTAssertEqual(CountsHeatmap.colour(0), "#ffffff")
    }
}
