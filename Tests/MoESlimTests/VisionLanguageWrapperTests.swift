import XCTest
@testable import MoESlimFamilies
@testable import MoESlimFormats

/// Vision-language wrappers (qwen3_5_moe, qwen3_vl_moe, glm4v_moe, llama4, kimi_k25, mistral3) run on text only: calibrate, eval and
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
        for name in ["qwen3_vl_moe", "glm4v_moe", "llama4", "qwen3_5_moe", "kimi_k25", "mistral3"] {
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

    /// The wrapper's own tie_word_embeddings is read as strictly as the text section's keys.
    func testWrapperTieOfTheWrongTypeIsRefused() throws {
        let dir = try Fixtures.scratch()
        let source = Fixtures.model("qwen3_vl_moe")
        var config = try Fixtures.json(source + "/config.json")
        config["tie_word_embeddings"] = "no"
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
        try FileManager.default.copyItem(atPath: source + "/model.safetensors", toPath: dir + "/model.safetensors")
        let r = try CommandRunner.run(["inspect", dir])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(r.stderr, "moe-slim: error: \(dir)/config.json: does not read as a qwen3_vl_moe config: wrong type for 'tie_word_embeddings'\n")
    }

    /// Meta's Llama 4 keeps its language model under language_model. and its lm_head there too.
    func testLlama4NamesItsLanguageModel() throws {
        let model = try ModelFamilies.describe(Checkpoint(path: Fixtures.model("llama4")))
        XCTAssertEqual(model.layersPrefix, "language_model.model.layers.")
        XCTAssertEqual(model.lmHeadTensor, "language_model.lm_head.weight")
        XCTAssertEqual(model.moeLayers.map(\.layer), [1, 3])
    }

    /// Kimi-K2.5 keeps DeepSeek-V3 under language_model.model. and its head at language_model.lm_head, as released.
    func testKimiK25NamesItsLanguageModel() throws {
        let model = try ModelFamilies.describe(Checkpoint(path: Fixtures.model("kimi_k25")))
        XCTAssertEqual(model.configSection, "text_config")
        XCTAssertEqual(model.layersPrefix, "language_model.model.layers.")
        XCTAssertEqual(model.lmHeadTensor, "language_model.lm_head.weight")
        XCTAssertEqual(model.moeLayers.map(\.layer), [1, 2])
    }

    /// The releases' text model type kimi_k2 reads as deepseek_v3 does; another decoder type is refused by name.
    func testKimiK25TextModelTypes() throws {
        let source = Fixtures.model("kimi_k25")
        for (type, accepted) in [("kimi_k2", true), ("qwen3_moe", false)] {
            let dir = try Fixtures.scratch()
            var config = try Fixtures.json(source + "/config.json")
            var text = config["text_config"] as! [String: Any]
            text["model_type"] = type
            config["text_config"] = text
            try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
            try FileManager.default.copyItem(atPath: source + "/model.safetensors", toPath: dir + "/model.safetensors")
            let r = try CommandRunner.run(["inspect", dir])
            if accepted {
                XCTAssertEqual(r.status, 0, r.stderr)
            } else {
                XCTAssertNotEqual(r.status, 0)
                XCTAssertEqual(r.stderr, "moe-slim: error: \(dir)/config.json: text_config.model_type is \"qwen3_moe\"; kimi_k25 wraps a DeepSeek-V3 language model ('deepseek_v3' or 'kimi_k2')\n")
            }
        }
    }

    /// Mistral 3 around a dense Mistral text model has no experts: it is refused by its text model type, before
    /// any latent-attention key is looked for.
    func testMistral3AroundADenseMistralIsRefused() throws {
        let source = Fixtures.model("mistral3")
        let dir = try Fixtures.scratch()
        var config = try Fixtures.json(source + "/config.json")
        config["text_config"] = ["model_type": "mistral", "hidden_size": 16, "num_hidden_layers": 3, "num_attention_heads": 4, "vocab_size": 64]
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
        try FileManager.default.copyItem(atPath: source + "/model.safetensors", toPath: dir + "/model.safetensors")
        let r = try CommandRunner.run(["inspect", dir])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(r.stderr, "moe-slim: error: \(dir)/config.json: does not read as a mistral3 config: text_config.model_type is \"mistral\"; only a mistral4 language model has experts\n")
    }

    /// Qwen3-VL-MoE's fused experts are read in either orientation, but a gate_up_proj that fits neither is refused
    /// naming the tensor and the input-major shape the config makes.
    func testQwen3VlFusedExpertsOfNeitherOrientationAreRefused() throws {
        let source = Fixtures.model("qwen3_vl_moe")
        let dir = try Fixtures.scratch()
        try FileManager.default.copyItem(atPath: source + "/config.json", toPath: dir + "/config.json")
        let target = "model.language_model.layers.0.mlp.experts.gate_up_proj"
        try Self.writeZeros(like: source + "/model.safetensors", to: dir + "/model.safetensors", reshaping: [target: [4, 16, 10]])
        let r = try CommandRunner.run(["inspect", dir])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(r.stderr, "moe-slim: error: \(dir): tensor '\(target)': has shape [4, 16, 10], expected [4, 16, 12]\n")
    }

    /// An adapter trained on transformers 5's output-major experts does not fit a release's input-major ones
    /// ([E, H, 2I], [E, I, H]): the merge refuses it by shape rather than adding a transposed delta.
    func testQwen3VlAdapterOnInputMajorExpertsIsRefused() throws {
        let lora = Fixtures.root.appendingPathComponent("lora").path
        let base = lora + "/bases/qwen3-vl-moe"
        let dir = try Fixtures.scratch()
        try FileManager.default.createDirectory(atPath: dir + "/base", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: base + "/config.json", toPath: dir + "/base/config.json")
        var reshaping: [String: [Int]] = [:]
        for layer in 0..<2 {
            reshaping["model.language_model.layers.\(layer).mlp.experts.gate_up_proj"] = [4, 16, 24]
            reshaping["model.language_model.layers.\(layer).mlp.experts.down_proj"] = [4, 12, 16]
        }
        try Self.writeZeros(like: base + "/model.safetensors", to: dir + "/base/model.safetensors", reshaping: reshaping)
        let r = try CommandRunner.run(["merge-lora", dir + "/base", lora + "/qwen3-vl-moe/adapter", dir + "/out"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("no targeted parameter of 'model.language_model.layers.0.mlp.experts' (model.language_model.layers.0.mlp.experts.down_proj, model.language_model.layers.0.mlp.experts.gate_up_proj) has a shape matching lora_A [16, 16] and lora_B [24, 16]"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/out"))
    }

    /// A safetensors file with the same tensors as `source` (F32 zeros), some with other shapes.
    static func writeZeros(like source: String, to path: String, reshaping: [String: [Int]]) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: source))
        let length = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + length))) as! [String: Any]
        var tensors: [(String, [Int])] = []
        for (name, value) in header where name != "__metadata__" {
            tensors.append((name, reshaping[name] ?? ((value as! [String: Any])["shape"] as! [Int])))
        }
        tensors.sort { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
        var text = "{\"__metadata__\":{\"format\":\"pt\"}"
        var offset = 0
        for (name, shape) in tensors {
            let bytes = shape.reduce(4, *)
            text += ",\"\(name)\":{\"dtype\":\"F32\",\"shape\":\(shape),\"data_offsets\":[\(offset),\(offset + bytes)]}"
            offset += bytes
        }
        text += "}"
        while text.utf8.count % 8 != 0 { text += " " }
        var file = Data()
        withUnsafeBytes(of: UInt64(text.utf8.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(contentsOf: text.utf8)
        file.append(Data(count: offset))
        try file.write(to: URL(fileURLWithPath: path))
    }
}
