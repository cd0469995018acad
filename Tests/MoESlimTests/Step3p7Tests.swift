import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimFamilies

/// Step-3.7-Flash (`step3p7`): the releases spell the language model's keys their own way and store two or more
/// multi-token-prediction layers past the last decoder layer. fixtures/models/step3p7-mtp is fixtures/models/step3p7
/// in those spellings with two such layers, which transformers reads to the same logits (gen_models.py).
final class Step3p7Tests: XCTestCase {
    private let released = Fixtures.model("step3p7-mtp")

    /// The MoE block is the layer: router and expert stacks under moe., the shared expert beside them.
    func testTheLayerIsTheMoEBlock() throws {
        let model = try ModelFamilies.describe(Checkpoint(path: Fixtures.model("step3p7")))
        XCTAssertEqual(model.configSection, "text_config")
        XCTAssertEqual(model.moeLayers.map(\.layer), [1, 2])
        XCTAssertEqual(model.routing, RoutingRule(scoring: .sigmoid, normalizeTopK: true, groups: nil, topkGroups: nil, scalingFactor: 1))
        let layer = model.moeLayers[0]
        XCTAssertEqual(layer.router.map(\.name), ["model.layers.1.moe.gate.weight", "model.layers.1.moe.router_bias"])
        XCTAssertEqual(layer.experts, .fused([
            SlicedTensor(name: "model.layers.1.moe.down_proj.weight", axis: 0),
            SlicedTensor(name: "model.layers.1.moe.gate_proj.weight", axis: 0),
            SlicedTensor(name: "model.layers.1.moe.up_proj.weight", axis: 0),
        ]))
        XCTAssertEqual(layer.shared, ["model.layers.1.share_expert.down_proj.weight", "model.layers.1.share_expert.gate_proj.weight", "model.layers.1.share_expert.up_proj.weight"])
        XCTAssertNil(model.multiTokenPrediction)
    }

    /// moe_num_experts, moe_top_k, num_attention_groups and moe_layers_enum read as transformers' spellings do.
    func testReleaseSpellingsReadAsTransformersOnes() throws {
        let native = try ModelFamilies.describe(Checkpoint(path: Fixtures.model("step3p7")))
        let model = try ModelFamilies.describe(Checkpoint(path: released))
        XCTAssertEqual(model.moeLayers.map(\.layer), native.moeLayers.map(\.layer))
        XCTAssertEqual(model.moeLayers.map(\.numExperts), [4, 4])
        XCTAssertEqual(model.moeLayers.map(\.topK), [2, 2])
        XCTAssertEqual(model.attention, native.attention)
        XCTAssertEqual(model.attention.numKeyValueHeads, 2)
        XCTAssertEqual(model.expertCountKey, "moe_num_experts")
        XCTAssertEqual(model.topKKey, "moe_top_k")
        XCTAssertEqual(model.multiTokenPrediction?.prefixes, ["model.layers.3.", "model.layers.4."])
        XCTAssertEqual(model.multiTokenPrediction?.configKey, "num_nextn_predict_layers")
    }

    func testPruneRefusesTheMultiTokenPredictionLayers() throws {
        let out = try Fixtures.scratch() + "/out"
        let result = try CommandRunner.run(["prune", released, out, "--plan", released + "/plan.json"])
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.stderr.contains("tensors under 'model.layers.3.', 'model.layers.4.') with experts of its own"), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    /// Dropped, both layers go: the tensors are step3p7-pruned's exactly, and the count keys the release spells
    /// are the ones rewritten.
    func testDropMtpLeavesEveryLayerOut() throws {
        let out = try Fixtures.scratch() + "/out"
        let result = try CommandRunner.run(["prune", released, out, "--plan", released + "/plan.json", "--drop-mtp"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let got = try Checkpoint(path: out)
        let expected = try Checkpoint(path: Fixtures.model("step3p7-pruned") + "/model.safetensors")
        XCTAssertEqual(Set(got.names), Set(expected.names))
        for name in expected.names {
            XCTAssertTrue(got.bytes(of: name)!.elementsEqual(expected.bytes(of: name)!), name)
        }
        let text = try XCTUnwrap(Fixtures.json(out + "/config.json")["text_config"] as? [String: Any])
        XCTAssertEqual(text["moe_num_experts"] as? Int, 3)
        XCTAssertEqual(text["moe_top_k"] as? Int, 2)
        XCTAssertEqual(text["num_nextn_predict_layers"] as? Int, 0)
        XCTAssertNil(text["n_routed_experts"])
    }

    private func inspect(editing edit: (inout [String: Any]) -> Void) throws -> CommandRunner.Result {
        let dir = try Fixtures.scratch()
        var config = try Fixtures.json(released + "/config.json")
        var text = config["text_config"] as! [String: Any]
        edit(&text)
        config["text_config"] = text
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
        try FileManager.default.copyItem(atPath: released + "/model.safetensors", toPath: dir + "/model.safetensors")
        return try CommandRunner.run(["inspect", dir])
    }

    func testAliasesThatDisagreeAreRefused() throws {
        let r = try inspect { $0["n_routed_experts"] = 5 }
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("n_routed_experts is 5 but its alias moe_num_experts is 4"), r.stderr)
    }

    func testMoeLayersEnumMustListLayers() throws {
        let r = try inspect { $0["moe_layers_enum"] = "1,two" }
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("moe_layers_enum has \"two\", which is not a layer number"), r.stderr)
    }

    /// As in Step3p7TextConfig, numbers that are no decoder layer (the multi-token-prediction layers') are ignored.
    func testMoeLayersEnumBeyondTheDecoderIsIgnored() throws {
        let r = try inspect { $0["moe_layers_enum"] = [2, 7, -1] }
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("1 with experts"), r.stdout)
    }

    func testMlpLayerTypesAreSparseOrDense() throws {
        let r = try inspect { $0["mlp_layer_types"] = ["dense", "moe", "sparse"] }
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("mlp_layer_types[1] is \"moe\"; Step's MLP layers are \"sparse\" or \"dense\""), r.stderr)
    }

    /// The releases give rope_theta per layer (padded with the multi-token-prediction layers'); it must be numbers.
    func testRopeThetaPerLayerMustBeNumbers() throws {
        let r = try inspect { $0["rope_theta"] = [10000.0, "x"] }
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("rope_theta is a list; it must be a number or a list of numbers"), r.stderr)
    }

    /// Described only: calibrate refuses it by model type.
    func testHasNoForwardPass() throws {
        let checkpoint = try Checkpoint(path: Fixtures.model("step3p7"))
        let model = try ModelFamilies.describe(checkpoint)
        XCTAssertThrowsError(try EngineFamilies.spec(for: checkpoint, model: model)) { error in
            XCTAssertTrue("\(error)".contains("the forward pass for model_type 'step3p7' is not implemented"), "\(error)")
        }
    }
}
