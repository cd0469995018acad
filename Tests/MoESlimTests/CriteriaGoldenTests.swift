import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimFamilies
@testable import MoESlimEngine
@testable import MoESlimSlimming

/// The statistics and criteria of issue 17 against transformers (fixtures/gen_engine.py, statistics.json): EAN,
/// max |expert output|, REAP's and MAN's means per layer and expert from forward hooks, the output sketch (the
/// expert outputs from hooks, projected in Python with the projection formats/counts.md defines), and AIMER's
/// scores from the authors' formula in Python, all within 1e-4.
final class CriteriaGoldenTests: XCTestCase {
    private struct Statistics: Decodable {
        struct Layer: Decodable {
            var layer: Int
            var hard: [Double]
            var ean: [Double]
            var maxAbsOutput: [Double]
            var reap: [Double]
            var man: [Double]
            var outputSketch: [[Double]]

            enum CodingKeys: String, CodingKey {
                case layer, hard, ean, reap, man
                case maxAbsOutput = "max_abs_output"
                case outputSketch = "output_sketch"
            }
        }

        var layers: [Layer]
        var aimer: [String: [Double]]

        static func load(_ name: String) throws -> Statistics {
            let data = try Data(contentsOf: URL(fileURLWithPath: EngineGolden.folder(name) + "/statistics.json"))
            return try JSONDecoder().decode(Statistics.self, from: data)
        }
    }

    /// Softmax routers (mixtral, qwen3_moe), sigmoid routers (deepseek_v3, glm4_moe), Llama-4's gate on the
    /// expert input, gpt-oss's biased experts; bf16, FP8 and MXFP4 storage.
    static let names = ["mixtral", "mixtral-bf16", "qwen3_moe", "deepseek_v3", "glm4_moe", "llama4_text", "gpt_oss",
                        "deepseek_v3-fp8", "gpt_oss-mxfp4"]

    func testStatisticsMatchTransformersHooks() throws {
        for name in Self.names { try checkStatistics(name) }
    }

    func testAimerMatchesTheAuthorsFormula() throws {
        for name in Self.names {
            let expected = try Statistics.load(name).aimer
            let checkpoint = try Checkpoint(path: EngineGolden.folder(name))
            let table = try AimerScores.table(checkpoint, model: try ModelFamilies.describe(checkpoint))
            XCTAssertEqual(Set(table.keys.map(String.init)), Set(expected.keys), "\(name): MoE layers")
            for (layer, scores) in table {
                assertRelative(scores, expected[String(layer)] ?? [], "\(name) layer \(layer) AIMER")
            }
        }
    }

    /// AIMER needs only described tensors: every registered family's fixture, with or without a forward pass.
    func testAimerScoresEveryDescribedFamily() throws {
        for type in RegisteredFamilies.modelTypes {
            let checkpoint = try Checkpoint(path: Fixtures.model(type))
            let model = try ModelFamilies.describe(checkpoint)
            guard model.zeroComputeKey == nil else {
                // LongCat-Flash's zero-compute experts have no weights to score: refused by name.
                XCTAssertThrowsError(try AimerScores.table(checkpoint, model: model), type)
                continue
            }
            let table = try AimerScores.table(checkpoint, model: model)
            for layer in model.moeLayers {
                let scores = try XCTUnwrap(table[layer.layer], "\(type) layer \(layer.layer)")
                XCTAssertEqual(scores.count, layer.numExperts, type)
                XCTAssertTrue(scores.allSatisfy { $0 > 0 && $0 <= 1 }, "\(type): mean |w| / RMS(w) is in (0, 1]: \(scores)")
            }
        }
    }

    private func checkStatistics(_ name: String) throws {
        let golden = try EngineGolden.load(name)
        let expected = try Statistics.load(name)
        let pass = try ForwardPass(checkpoint: Checkpoint(path: EngineGolden.folder(name)), compute: .f32)
        var counts = ExpertCounts(model: pass.model)
        for sequence in golden.sequences {
            _ = try pass.run([sequence.inputIds]) { counts.add($0) }
        }
        XCTAssertEqual(counts.layers.map(\.layer), expected.layers.map(\.layer), name)
        let reap = try XCTUnwrap(ExpertSelection.Criterion(rawValue: "reap"))
        let man = try XCTUnwrap(ExpertSelection.Criterion(rawValue: "man"))
        for (ours, theirs) in zip(counts.layers, expected.layers) {
            let at = "\(name) layer \(ours.layer)"
            XCTAssertEqual(ours.hard, theirs.hard, "\(at) hard")
            assertRelative(ours.sums[.ean], theirs.ean, "\(at) ean")
            assertRelative(ours.sums[.maxAbsOutput], theirs.maxAbsOutput, "\(at) max_abs_output")
            assertRelative(try reap.scores(ours, path: name), theirs.reap, "\(at) reap")
            assertRelative(try man.scores(ours, path: name), theirs.man, "\(at) man")
            assertSketches(ours.sums[.outputSketch], theirs.outputSketch, "\(at) output_sketch")
        }
    }

    /// Each expert's summed sketch within 1e-4 of the expected vector's norm: components are signed sums that
    /// may cancel to near zero, where a relative bound per component would measure only rounding.
    private func assertSketches(_ ours: [Double], _ expected: [[Double]], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let width = OutputSketch.width
        XCTAssertEqual(ours.count, expected.count * width, what, file: file, line: line)
        XCTAssertTrue(expected.contains { $0.contains { $0 != 0 } }, "\(what): some expert was routed to", file: file, line: line)
        for (e, vector) in expected.enumerated() where ours.count == expected.count * width {
            XCTAssertEqual(vector.count, width, what, file: file, line: line)
            let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
            for (j, b) in vector.enumerated() {
                let a = ours[e * width + j]
                XCTAssertLessThanOrEqual(abs(a - b), 1e-4 * max(norm, 1e-6), "\(what) expert \(e) [\(j)]: \(a) vs \(b)", file: file, line: line)
            }
        }
    }

    private func assertRelative(_ ours: [Double], _ expected: [Double], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(ours.count, expected.count, what, file: file, line: line)
        for (a, b) in zip(ours, expected) {
            XCTAssertLessThanOrEqual(abs(a - b), 1e-4 * max(abs(b), 1e-6), "\(what): \(a) vs \(b)", file: file, line: line)
        }
    }
}
