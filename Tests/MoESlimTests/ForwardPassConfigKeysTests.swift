import XCTest
@testable import MoESlimSupport
@testable import MoESlimFamilies

/// The config readings the Hunyuan, AFMoE and LFM2 forward passes add, on their engine fixtures' configs:
/// Hunyuan's rope as the releases spell it (top-level rope_theta, rope_scaling with "type": "dynamic" and alpha)
/// gives the frequencies the fixture's transformers 5 spelling gives, which the engine goldens hold to
/// transformers; the config classes' own defaults; what transformers cannot run is refused by name.
final class ForwardPassConfigKeysTests: XCTestCase {
    private func config(_ name: String, _ edit: (inout [String: Any]) -> Void) throws -> [UInt8] {
        let path = EngineGolden.folder(name) + "/config.json"
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        edit(&config)
        return [UInt8](try JSONSerialization.data(withJSONObject: config))
    }

    private func spec(_ name: String, _ edit: (inout [String: Any]) -> Void = { _ in }) throws -> EngineSpec {
        let type = name.split(separator: "-").first.map(String.init) ?? name
        return try EngineFamilies.all[type]!(try config(name, edit), "config.json")
    }

    private func refusal(_ name: String, _ edit: (inout [String: Any]) -> Void) -> String {
        do {
            _ = try spec(name, edit)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    func testHunyuanReleasedRopeSpellingGivesTheFixtureFrequencies() throws {
        let current = try spec("hunyuan_v1_moe")
        let released = try spec("hunyuan_v1_moe") { c in
            c["rope_parameters"] = nil
            c["rope_theta"] = 10000.0
            c["rope_scaling"] = ["alpha": 20.0, "beta_fast": 32, "beta_slow": 1, "factor": 1.0, "mscale": 1.0,
                                 "mscale_all_dim": 1.0, "type": "dynamic"] as [String: Any]
        }
        XCTAssertEqual(released.rope.inverseFrequencies, current.rope.inverseFrequencies)
        // transformers' inv_freq for alpha 20, head_dim 8: base 10000 · 20^(8/6).
        XCTAssertEqual(current.rope.inverseFrequencies[1], 3.6840e-2, accuracy: 1e-6)
        XCTAssertEqual(current.rope.inverseFrequencies[3], 5.0000e-5, accuracy: 1e-9)
    }

    func testHunyuanRefusals() {
        XCTAssertEqual(
            refusal("hunyuan_v1_moe") { c in c["rope_parameters"] = ["rope_type": "dynamic", "rope_theta": 10000.0, "factor": 2.0] },
            "config.json: calibrate does not support rope type 'dynamic' (supported: default, linear, llama3, yarn, longrope)")
        XCTAssertEqual(
            refusal("hunyuan_v1_moe") { c in c["head_dim"] = nil },
            "config.json: the forward pass needs head_dim (HunYuanMoEV1Attention reads it from the config, with no default)")
        XCTAssertTrue(refusal("hunyuan_v1_moe") { c in
            c["rope_parameters"] = ["rope_type": "dynamic", "rope_theta": 10000.0, "alpha": 1e300]
        }.contains("must be finite and positive"))
    }

    func testAfmoeLayerTypes() throws {
        let fixture = try spec("afmoe")
        XCTAssertEqual(fixture.attention.slidingWindows, [0: 6, 2: 6])
        XCTAssertEqual(fixture.attention.noRopeLayers, [1])
        let pattern = try spec("afmoe") { c in
            c["layer_types"] = nil
            c["num_hidden_layers"] = 8
            c["global_attn_every_n_layers"] = 4
        }
        XCTAssertEqual(pattern.attention.noRopeLayers, [3, 7])
        XCTAssertEqual(
            refusal("afmoe") { c in c["layer_types"] = ["sliding_attention", "chunked_attention", "full_attention"] },
            #"config.json: layer_types[1] is "chunked_attention"; AFMoE's layers are "sliding_attention" or "full_attention""#)
    }

    func testLfm2DefaultsAndLayerTypes() throws {
        let fixture = try spec("lfm2_moe")
        XCTAssertEqual(fixture.attention.shortConvolution?.layers, [0, 2])
        XCTAssertEqual(fixture.attention.shortConvolution?.kernel, 3)
        XCTAssertEqual(fixture.normEps, 1e-5, "norm_eps, not rms_norm_eps")
        XCTAssertNotNil(fixture.router.correctionBias)
        let defaults = try spec("lfm2_moe") { c in
            c["rope_parameters"] = nil
            c["norm_eps"] = nil
            c["use_expert_bias"] = false
        }
        XCTAssertEqual(defaults.rope.inverseFrequencies[1], 1 / Float(pow(1e6, 2.0 / 8)), accuracy: 1e-9, "Lfm2MoeConfig.default_theta")
        XCTAssertEqual(defaults.normEps, 1e-5)
        XCTAssertNil(defaults.router.correctionBias, "without use_expert_bias transformers neither builds nor loads expert_bias")
        XCTAssertEqual(
            refusal("lfm2_moe") { c in c["layer_types"] = nil },
            #"config.json: the forward pass needs layer_types (which layers are "conv" and which "full_attention")"#)
        XCTAssertEqual(
            refusal("lfm2_moe") { c in c["layer_types"] = ["conv", "sliding_attention", "conv", "full_attention"] },
            #"config.json: layer_types[1] is "sliding_attention"; LFM2's layers are "conv" or "full_attention""#)
    }

    /// The tensors only these forward passes read are held to the config's shapes before any command uses them.
    func testShapeCheckCoversTheNewTensors() throws {
        let cases = [
            ("afmoe", "model.layers.1.self_attn.gate_proj.weight", [32, 31], "[32, 32]"),
            ("afmoe", "model.layers.2.post_mlp_layernorm.weight", [31], "[32]"),
            ("lfm2_moe", "model.layers.2.conv.conv.weight", [32, 1, 4], "[32, 1, 3]"),
            ("lfm2_moe", "model.layers.0.conv.in_proj.weight", [32, 32], "[96, 32]"),
        ]
        for (name, tensor, shape, expected) in cases {
            try Self.assertShapeRefused(name, tensor: tensor, shape: shape, expected: expected)
        }
    }

    /// The engine golden of `family` with one tensor reshaped (zeros) is refused by inspect, naming the tensor.
    static func assertShapeRefused(_ family: String, tensor: String, shape: [Int], expected: String) throws {
        let source = EngineGolden.folder(family)
        let dir = try Fixtures.scratch()
        try FileManager.default.copyItem(atPath: source + "/config.json", toPath: dir + "/config.json")
        try VisionLanguageWrapperTests.writeZeros(like: source + "/model.safetensors", to: dir + "/model.safetensors", reshaping: [tensor: shape])
        let r = try CommandRunner.run(["inspect", dir])
        XCTAssertNotEqual(r.status, 0, tensor)
        XCTAssertEqual(r.stderr, "moe-slim: error: \(dir): tensor '\(tensor)': has shape \(shape), expected \(expected)\n")
    }
}
