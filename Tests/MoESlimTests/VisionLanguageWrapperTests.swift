import XCTest
@testable import MoESlimFamilies
@testable import MoESlimFormats

/// Vision-language wrappers (qwen3_5_moe, qwen3_vl_moe, glm4v_moe, llama4) run on text only: calibrate, eval and
/// sweep say once that image tokens also route through the experts; a text-only model says nothing of the kind.
final class VisionLanguageWrapperTests: XCTestCase {
    private static let warning = " is a vision-language model; image tokens also route through these experts, so counts from text alone can drop experts that serve images"

    private func data(_ name: String, in dir: String) throws -> String {
        let golden = try EngineGolden.load(name)
        let lines = golden.sequences.map { "{\"input_ids\": [\($0.inputIds.map(String.init).joined(separator: ", "))]}" }
        let path = dir + "/data.jsonl"
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testCalibrateAndEvalWarnOnceAboutImageTokens() throws {
        for name in ["qwen3_vl_moe", "glm4v_moe", "llama4", "qwen3_5_moe"] {
            let dir = try Fixtures.scratch()
            let data = try data(name, in: dir)
            let calibrate = try CommandRunner.run(["calibrate", EngineGolden.folder(name), "--data", data, "-o", dir + "/c.json"])
            XCTAssertEqual(calibrate.status, 0, calibrate.stderr)
            let eval = try CommandRunner.run(["eval", EngineGolden.folder(name), "--data", data])
            XCTAssertEqual(eval.status, 0, eval.stderr)
            for r in [calibrate, eval] {
                let warnings = r.stderr.split(separator: "\n").filter { $0.contains("warning") }
                XCTAssertEqual(warnings, ["moe-slim: warning: \(name)" + Self.warning], "\(name): \(r.stderr)")
            }
        }
    }

    func testTextOnlyModelHasNoImageWarning() throws {
        let dir = try Fixtures.scratch()
        let data = try data("qwen3_moe", in: dir)
        let r = try CommandRunner.run(["calibrate", EngineGolden.folder("qwen3_moe"), "--data", data, "-o", dir + "/c.json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stderr.contains("vision-language"), r.stderr)
    }

    /// transformers ties a wrapper's lm_head by the top-level tie_word_embeddings; Qwen3-VL-MoE's text_config
    /// says true (its default) while the top level says false, and the checkpoint has its own lm_head.
    func testWrapperTiesByItsTopLevelConfig() throws {
        let model = try ModelFamilies.describe(Checkpoint(path: Fixtures.model("qwen3_vl_moe")))
        XCTAssertFalse(model.tiedEmbeddings)
        XCTAssertEqual(model.configSection, "text_config")
        XCTAssertEqual(model.layersPrefix, "model.language_model.layers.")
    }

    /// Meta's Llama 4 keeps its language model under language_model. and its lm_head there too.
    func testLlama4NamesItsLanguageModel() throws {
        let model = try ModelFamilies.describe(Checkpoint(path: Fixtures.model("llama4")))
        XCTAssertEqual(model.layersPrefix, "language_model.model.layers.")
        XCTAssertEqual(model.lmHeadTensor, "language_model.lm_head.weight")
        XCTAssertEqual(model.moeLayers.map(\.layer), [1, 3])
    }
}
