import XCTest
@testable import MoESlimSupport
@testable import MoESlimFamilies

/// Gemma 4's config readings on its engine fixture's config (transformers 5.25 saves per_layer_config; the
/// releases spell the full-attention layers' widths as global_head_dim and num_global_key_value_heads), its
/// rotations, its refusals by key, and the shape check of the tensors only its forward pass reads. The engine
/// and eval goldens hold the forward pass itself to transformers.
final class Gemma4Tests: XCTestCase {
    private func config(_ edit: (inout [String: Any]) -> Void) throws -> [UInt8] {
        let path = EngineGolden.folder("gemma4_text") + "/config.json"
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        edit(&config)
        return [UInt8](try JSONSerialization.data(withJSONObject: config))
    }

    private func spec(_ edit: (inout [String: Any]) -> Void = { _ in }) throws -> EngineSpec {
        try EngineFamilies.all["gemma4_text"]!(try config(edit), "config.json")
    }

    private func refusal(_ edit: (inout [String: Any]) -> Void) -> String {
        do {
            _ = try spec(edit)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    func testFullAttentionLayersHaveTheirOwnHeads() throws {
        let fixture = try spec()
        XCTAssertEqual(fixture.attention.headDimsPerLayer, [1: 16, 3: 16])
        XCTAssertEqual(fixture.attention.keyValueHeadsPerLayer, [1: 1, 3: 1])
        XCTAssertEqual(fixture.attention.keysAsValuesLayers, [1, 3])
        XCTAssertEqual(fixture.attention.slidingWindows, [0: 6, 2: 6])
        XCTAssertEqual(fixture.attention.scaling, 1)
        XCTAssertEqual(fixture.logitSoftcap, 3)
        XCTAssertEqual(fixture.embeddingMultiplier, Float(32.0.squareRoot()))
        // As the releases spell it: the same spec.
        let released = try spec { c in
            c["per_layer_config"] = nil
            c["global_head_dim"] = 16
            c["num_global_key_value_heads"] = 1
        }
        XCTAssertEqual(released.attention.headDimsPerLayer, fixture.attention.headDimsPerLayer)
        XCTAssertEqual(released.attention.keyValueHeadsPerLayer, fixture.attention.keyValueHeadsPerLayer)
        // Without attention_k_eq_v the full layers keep num_key_value_heads and their v_proj.
        let separate = try spec { c in
            c["per_layer_config"] = nil
            c["attention_k_eq_v"] = false
            c["num_global_key_value_heads"] = 1
        }
        XCTAssertEqual(separate.attention.headDimsPerLayer, [1: 512, 3: 512], "Gemma4TextConfig's global_head_dim default")
        XCTAssertEqual(separate.attention.keyValueHeadsPerLayer, [:])
        XCTAssertEqual(separate.attention.keysAsValuesLayers, [])
    }

    /// transformers' inv_freq: default over head_dim 8 at 1e4 on sliding layers; proportional over half of the
    /// 16-wide head at 1e6 on full layers, zeros for the unrotated rest.
    func testRotations() throws {
        let s = try spec()
        XCTAssertEqual(s.layerRopes[0]?.inverseFrequencies.count, 4)
        XCTAssertEqual(s.layerRopes[0]?.inverseFrequencies[1] ?? 0, 0.1, accuracy: 1e-7)
        let full = s.layerRopes[1]?.inverseFrequencies ?? []
        XCTAssertEqual(full.count, 8)
        for (i, expected) in [Float(1.0), 0.17782793939113617, 0.03162277862429619, 0.005623413249850273].enumerated() {
            XCTAssertEqual(full[i], expected, accuracy: expected * 1e-6)
        }
        XCTAssertEqual(Array(full[4...]), [0, 0, 0, 0])
        let defaults = try spec { c in c["rope_parameters"] = nil }
        XCTAssertEqual(defaults.layerRopes[3]?.inverseFrequencies.filter { $0 != 0 }.count, 2, "a quarter of 16 is rotated by default")
    }

    func testRefusals() {
        XCTAssertEqual(
            refusal { c in c["hidden_size_per_layer_input"] = 256 },
            "config.json: hidden_size_per_layer_input is 256; the forward pass does not run per-layer input embeddings")
        XCTAssertEqual(
            refusal { c in c["hidden_size_per_layer_input"] = nil },
            "config.json: hidden_size_per_layer_input is 256 (Gemma4TextConfig's default); the forward pass does not run per-layer input embeddings")
        XCTAssertEqual(
            refusal { c in c["num_kv_shared_layers"] = 2 },
            "config.json: num_kv_shared_layers is 2; the forward pass does not run layers that reuse another layer's keys and values")
        XCTAssertEqual(
            refusal { c in c["use_bidirectional_attention"] = "all" },
            #"config.json: use_bidirectional_attention is "all"; the forward pass runs causal attention only"#)
        XCTAssertEqual(
            refusal { c in c["hidden_activation"] = "silu" },
            #"config.json: hidden_activation is "silu"; the forward pass runs Gemma 4's gelu_pytorch_tanh only"#)
        XCTAssertEqual(
            refusal { c in c["rope_parameters"] = ["sliding_attention": ["rope_type": "default"], "full_attention": ["rope_type": "yarn", "factor": 2.0]] },
            #"config.json: rope_parameters.full_attention.rope_type is "yarn"; the forward pass runs Gemma 4's default and proportional rotations only"#)
        XCTAssertEqual(
            refusal { c in c["rope_parameters"] = ["rope_type": "default", "rope_theta": 10000.0] },
            #"config.json: rope_parameters is not keyed by layer type ("sliding_attention", "full_attention") as Gemma 4's config has it"#)
        XCTAssertEqual(
            refusal { c in c["per_layer_config"] = ["1": ["head_dim": 16, "num_key_value_heads": 3]] },
            "config.json: layer 1 has 3 key-value heads; they must divide the 4 attention heads")
        XCTAssertEqual(
            refusal { c in c["per_layer_config"] = ["9": ["head_dim": 16]] },
            #"config.json: per_layer_config has the key "9"; its keys are layer indices below 4"#)
    }

    /// The tensors only this forward pass reads are held to the config's shapes before any command uses them.
    func testShapeCheckCoversGemmaTensors() throws {
        let cases = [
            ("model.layers.0.router.scale", [31], "[32]"),
            ("model.layers.2.layer_scalar", [2], "[1]"),
            ("model.layers.1.self_attn.q_norm.weight", [8], "[16]"),
            ("model.layers.1.self_attn.k_proj.weight", [32, 32], "[16, 32]"),
            ("model.layers.3.post_feedforward_layernorm_2.weight", [31], "[32]"),
            ("model.layers.0.pre_feedforward_layernorm_2.weight", [31], "[32]"),
            ("model.layers.0.post_feedforward_layernorm_1.weight", [31], "[32]"),
        ]
        for (tensor, shape, expected) in cases {
            try ForwardPassConfigKeysTests.assertShapeRefused("gemma4_text", tensor: tensor, shape: shape, expected: expected)
        }
    }
}
