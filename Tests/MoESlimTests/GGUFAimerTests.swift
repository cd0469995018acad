import Foundation
import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimFamilies
@testable import MoESlimSlimming

/// `--criterion aimer` on a GGUF (fixtures/gen_gguf.py): the same scores, to the last bit, as on the safetensors
/// model the F32 and BF16 GGUFs were converted from; the legacy quants, K-quants and MXFP4 as gguf-py's own
/// dequantize gives them (aimer-reference.json); other types (IQ*, TQ*) refused by name.
final class GGUFAimerTests: XCTestCase {
    private struct Reference: Decodable {
        var scores: [String: [Double]]
        var plan: [String: [Int]]
    }

    private func ggufScores(_ path: String) throws -> (table: [Int: [Double]], plan: [Int: [Int]]) {
        let gguf = try GGUFModel(path: path)
        let model = try GGUFArchitectures.describe(gguf)
        let plan = try ExpertSelection(criterion: .aimer, strategy: .layer, amount: .keep(2), topK: nil).plan(model: model, counts: nil, weights: gguf)
        return (try AimerScores.table(gguf, model: model), plan.kept)
    }

    func testScoresAndPlanEqualTheSafetensorsModelTheGGUFWasConvertedFrom() throws {
        for family in ["mixtral", "qwen3moe"] {
            for type in ["f32", "bf16"] {
                let checkpoint = try Checkpoint(path: FixturePaths.fixture("gguf/hf/\(family)-\(type)"))
                let model = try ModelFamilies.describe(checkpoint)
                let expected = try AimerScores.table(checkpoint, model: model)
                let plan = try ExpertSelection(criterion: .aimer, strategy: .layer, amount: .keep(2), topK: nil).plan(model: model, counts: nil, weights: checkpoint)
                let ours = try ggufScores(FixturePaths.fixture("gguf/models/\(family)-\(type).gguf"))
                XCTAssertEqual(ours.table, expected, "\(family)-\(type)")
                XCTAssertEqual(ours.plan, plan.kept, "\(family)-\(type)")
            }
        }
    }

    func testQuantizedScoresMatchGGUFPyDequantize() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: FixturePaths.fixture("gguf/aimer-reference.json")))
        let references = try JSONDecoder().decode([String: Reference].self, from: data)
        XCTAssertEqual(references.keys.sorted(), ["mixtral-q4_0", "mixtral-q4_k", "mixtral-q8_0", "qwen3moe-q4_0", "qwen3moe-q4_k", "qwen3moe-q8_0", "seeded-mxfp4", "seeded-q2_k", "seeded-q3_k", "seeded-q4_1-q5_0-q5_1", "seeded-q4_k-q5_k-q6_k"])
        for (name, reference) in references {
            let ours = try ggufScores(FixturePaths.fixture("gguf/models/\(name).gguf"))
            XCTAssertEqual(ours.table.keys.sorted(), reference.scores.keys.compactMap { Int($0) }.sorted(), name)
            for (layer, scores) in ours.table {
                let expected = try XCTUnwrap(reference.scores[String(layer)])
                XCTAssertEqual(scores.count, expected.count, name)
                for (a, b) in zip(scores, expected) {
                    XCTAssertLessThanOrEqual(abs(a - b), 1e-6 * abs(b), "\(name) layer \(layer): \(scores) vs \(expected)")
                }
                XCTAssertEqual(ours.plan[layer], reference.plan[String(layer)], "\(name) layer \(layer)")
            }
        }
    }

    func testPruneWritesTheAimerPlanAndDryRunPrintsIt() throws {
        let folder = NSTemporaryDirectory() + "gguf-aimer-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let input = FixturePaths.fixture("gguf/models/qwen3moe-q8_0.gguf"), out = "\(folder)/out.gguf"
        let dry = try CommandRunner.run(["prune", input, out, "--criterion", "aimer", "--keep", "2", "--dry-run"])
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertTrue(dry.stdout.contains("  layer 0: 2/4  [0 1]\n  layer 1: 2/4  [1 2]\n"), dry.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        let run = try CommandRunner.run(["prune", input, out, "--criterion", "aimer", "--keep", "2"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(try GGUFModel(path: out).value("moe_slim.plan")?.text, #"{"layers":{"0":[0,1],"1":[1,2]}}"#)
    }

    func testAnUnsupportedTypeIsRefusedNamingTheTensorAndType() throws {
        let input = FixturePaths.fixture("gguf/models/refused-iq2_xxs.gguf")
        let r = try CommandRunner.run(["prune", input, NSTemporaryDirectory() + "never-\(UUID().uuidString).gguf", "--criterion", "aimer", "--keep", "2", "--dry-run"])
        XCTAssertEqual(r.status, 69)
        XCTAssertEqual(r.stderr, "moe-slim: error: \(input): tensor 'blk.0.ffn_gate_exps.weight': AIMER reads F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K and MXFP4 expert weights, not IQ2_XXS (shape [4, 256, 256]); rank by --counts or a llama-imatrix file instead\n")
    }
}
