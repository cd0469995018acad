import Foundation
import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimSlimming

/// What a merge writes besides the merged values: resized vocabularies, output dtype, config.json, adapter names.
final class LoRAOutputTests: XCTestCase {
    private let base = LoRAFixtures.base("mixtral-f32")

    /// A modules_to_save lm_head trained after resize_token_embeddings replaces the base one, and config.json's
    /// vocab_size follows.
    func testResizedLMHeadUpdatesVocabSize() throws {
        let adapter = LoRAFixtures.temporaryFolder()
        try Data(#"{"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["q_proj"], "modules_to_save": ["lm_head"]}"#.utf8)
            .write(to: URL(fileURLWithPath: adapter + "/adapter_config.json"))
        try LoRATensorFile.write([("base_model.model.lm_head.weight", [40, 16], 0.25)], to: adapter + "/adapter_model.safetensors")
        let checkpoint = try Checkpoint(path: base)
        let merged = try LoRAFixtures.merge(base: checkpoint, adapters: [adapter])
        XCTAssertEqual(merged.info("lm_head.weight")?.shape, [40, 16])
        XCTAssertEqual(TensorElements.floats(merged.bytes(of: "lm_head.weight")!, dtype: .F32), [Float](repeating: 0.25, count: 640))
        XCTAssertEqual(merged.config?["vocab_size"]?.intValue, 40)
    }

    func testOutputDTypeConvertsEveryFloatTensor() throws {
        let checkpoint = try Checkpoint(path: base)
        let plan = try MergePlan(checkpoint: checkpoint, adapters: [.init(path: LoRAFixtures.folder("attention") + "/adapter")])
        let out = LoRAFixtures.temporaryFolder() + "/merged"
        try LoraMergeWriter(base: checkpoint, plan: plan, destination: out, dtype: .BF16, rounding: .once, force: false).write()
        let merged = try Checkpoint(path: out)
        let bf16 = try Checkpoint(path: LoRAFixtures.base("mixtral-bf16"))
        for name in merged.names {
            XCTAssertEqual(merged.info(name)?.dtype, .BF16, name)
            if !plan.changedTensors.contains(ByteName(name)) {
                XCTAssertEqual(Array(merged.bytes(of: name)!), Array(bf16.bytes(of: name)!), "\(name): f32 → bf16 as torch rounds")
            }
        }
        XCTAssertEqual(merged.config?["torch_dtype"]?.stringValue ?? merged.config?["dtype"]?.stringValue, "bfloat16")
    }

    func testAdapterKeysWithAndWithoutAdapterName() {
        let plain = AdapterKey("base_model.model.model.layers.0.mlp.experts.base_layer.lora_A.weight", adapterName: nil)
        XCTAssertEqual(plain?.module, "model.layers.0.mlp.experts")
        XCTAssertEqual(plain?.depth, 1)
        XCTAssertEqual(plain?.role, .loraA)
        let named = AdapterKey("base_model.model.model.layers.0.self_attn.q_proj.lora_B.math.weight", adapterName: "math")
        XCTAssertEqual(named?.module, "model.layers.0.self_attn.q_proj")
        XCTAssertEqual(named?.role, .loraB)
        let magnitude = AdapterKey("base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector", adapterName: nil)
        XCTAssertEqual(magnitude?.role, .magnitude)
        let saved = AdapterKey("base_model.model.model.embed_tokens.base_layer.weight", adapterName: nil)
        XCTAssertEqual(saved?.role, .replacement)
        XCTAssertEqual(saved?.module, "model.embed_tokens")
        XCTAssertNil(AdapterKey("model.layers.0.self_attn.q_proj.weight", adapterName: nil))
    }

    /// get_pattern_key: keys are regexes matched against a dotted suffix of the module name.
    func testPatternKeysMatchLikePEFT() {
        let pattern: [(key: String, value: Int)] = [("model.layers.1.self_attn.q_proj", 2), ("o_proj", 6), ("layers\\.[0-9]+\\.mlp\\.gate", 3)]
        XCTAssertEqual(AdapterConfig.patternValue(pattern, "model.layers.1.self_attn.q_proj"), 2)
        XCTAssertNil(AdapterConfig.patternValue(pattern, "model.layers.0.self_attn.q_proj"))
        XCTAssertEqual(AdapterConfig.patternValue(pattern, "model.layers.0.self_attn.o_proj"), 6)
        XCTAssertNil(AdapterConfig.patternValue(pattern, "model.layers.0.self_attn.xo_proj"))
        XCTAssertEqual(AdapterConfig.patternValue(pattern, "model.layers.7.mlp.gate.weight".replacingOccurrences(of: ".weight", with: "")), 3)
    }
}
