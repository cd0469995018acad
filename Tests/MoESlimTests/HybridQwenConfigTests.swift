import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimFamilies
@testable import MoESlimSlimming

/// Qwen3-Next's and Qwen3.5's own config keys, refused with one message naming the key, on a copy of the
/// committed fixture with one value changed.
final class HybridQwenConfigTests: XCTestCase {
    /// The fixture with `change` applied to its config (to text_config for the wrapper), described.
    private func describe(_ family: String, _ change: (inout [String: Any]) -> Void) throws -> Result<ModelDescription, MoESlimError> {
        let dir = try Fixtures.scratch()
        try FileManager.default.copyItem(atPath: Fixtures.model(family) + "/model.safetensors", toPath: dir + "/model.safetensors")
        var config = try Fixtures.json(Fixtures.model(family) + "/config.json")
        change(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
        do {
            return .success(try ModelFamilies.describe(Checkpoint(path: dir)))
        } catch let error as MoESlimError {
            return .failure(error)
        }
    }

    private func assertRefused(_ family: String, _ message: String, _ change: (inout [String: Any]) -> Void, line: UInt = #line) throws {
        guard case .failure(let error) = try describe(family, change) else { return XCTFail("accepted", line: line) }
        XCTAssertEqual(error.code, .invalidConfig, line: line)
        XCTAssertEqual(error.message, message, line: line)
    }

    func testLayerTypesOtherThanLinearOrFullAttentionAreRefused() throws {
        try assertRefused("qwen3_next", "layer_types[2] is \"sliding_attention\"; Qwen's hybrid layers are \"linear_attention\" or \"full_attention\"") {
            $0["layer_types"] = ["linear_attention", "full_attention", "sliding_attention", "full_attention"]
        }
    }

    func testValueHeadsMustBeAMultipleOfKeyHeads() throws {
        try assertRefused("qwen3_next", "linear_num_value_heads (3) must be a multiple of linear_num_key_heads (2)") {
            $0["linear_num_value_heads"] = 3
        }
    }

    func testLinearHeadCountsArePositive() throws {
        try assertRefused("qwen3_next", "linear_num_key_heads is 0; it must be a positive integer") { $0["linear_num_key_heads"] = 0 }
    }

    /// The wrapper's keys are read from text_config, which must be an object; its bounds apply there.
    func testWrapperReadsTextConfig() throws {
        try assertRefused("qwen3_5_moe", "text_config is not an object") { $0["text_config"] = 5 }
        try assertRefused("qwen3_5_moe", "linear_conv_kernel_dim is 0; it must be a positive integer") {
            var text = $0["text_config"] as! [String: Any]
            text["linear_conv_kernel_dim"] = 0
            $0["text_config"] = text
        }
        guard case .success(let model) = try describe("qwen3_5_moe", { _ in }) else { return XCTFail("refused") }
        XCTAssertEqual(model.configSection, "text_config")
        XCTAssertEqual(model.layersPrefix, "model.language_model.layers.")
        XCTAssertEqual(model.moeLayers.map(\.layer), [0, 1, 2, 3])
        XCTAssertEqual(model.attention.linear?.layers, [0, 2])
    }

    /// Without layer_types, every full_attention_interval-th layer is full attention, as transformers' default.
    func testFullAttentionIntervalGivesTheDefaultLayerTypes() throws {
        guard case .success(let model) = try describe("qwen3_next", {
            $0.removeValue(forKey: "layer_types")
            $0["full_attention_interval"] = 4
        }) else { return XCTFail("refused") }
        XCTAssertEqual(model.attention.linear?.layers, [0, 1, 2])
    }
}
