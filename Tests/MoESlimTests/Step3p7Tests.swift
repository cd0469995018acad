import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimFamilies
@testable import MoESlimEngine

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
        assertSameTensors(try Checkpoint(path: out), try Checkpoint(path: Fixtures.model("step3p7-pruned") + "/model.safetensors"), "--drop-mtp")
        let text = try XCTUnwrap(Fixtures.json(out + "/config.json")["text_config"] as? [String: Any])
        XCTAssertEqual(text["moe_num_experts"] as? Int, 3)
        XCTAssertEqual(text["moe_top_k"] as? Int, 2)
        XCTAssertEqual(text["num_nextn_predict_layers"] as? Int, 0)
        XCTAssertNil(text["n_routed_experts"])
    }

    /// A copy of the model folder `source` with its text config edited.
    private func copy(_ source: String, editing edit: (inout [String: Any]) -> Void) throws -> String {
        let dir = try Fixtures.scratch()
        var config = try Fixtures.json(source + "/config.json")
        var text = config["text_config"] as! [String: Any]
        edit(&text)
        config["text_config"] = text
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
        try FileManager.default.copyItem(atPath: source + "/model.safetensors", toPath: dir + "/model.safetensors")
        return dir
    }

    private func inspect(editing edit: (inout [String: Any]) -> Void) throws -> CommandRunner.Result {
        try CommandRunner.run(["inspect", try copy(released, editing: edit)])
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
        let r = try inspect { $0["moe_layers_enum"] = [1, 2, 7, -1] }
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("2 with experts"), r.stdout)
        // A layer whose router the list leaves out would be read as dense: refused by name.
        let dense = try inspect { $0["moe_layers_enum"] = [2, 7, -1] }
        XCTAssertEqual(dense.status, 65)
        XCTAssertTrue(dense.stderr.contains("is a router in layer 1, which the config makes a dense layer"), dense.stderr)
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

    /// The engine fixture (transformers' spellings) with its text config rewritten as the releases spell it:
    /// rope_theta and partial_rotary_factors per layer, the sliding heads in attention_other_setting, the expert
    /// keys and moe_layers_enum. The forward pass computes the same hidden states from either.
    func testReleaseSpellingsRunTheSameForwardPass() throws {
        let source = EngineGolden.folder("step3p7")
        let dir = try Fixtures.scratch()
        var config = try Fixtures.json(source + "/config.json")
        var text = config["text_config"] as! [String: Any]
        let rope = text.removeValue(forKey: "rope_parameters") as! [String: [String: Any]]
        let types = text["layer_types"] as! [String]
        text["rope_theta"] = types.map { rope[$0]!["rope_theta"]! } + [1.0]
        text["partial_rotary_factors"] = types.map { rope[$0]!["partial_rotary_factor"]! }
        text["attention_other_setting"] = ["num_attention_heads": text.removeValue(forKey: "num_sliding_attention_heads")!]
        text.removeValue(forKey: "per_layer_config")
        text["moe_num_experts"] = text.removeValue(forKey: "n_routed_experts")
        text["moe_top_k"] = text.removeValue(forKey: "num_experts_per_tok")
        text["num_attention_groups"] = text.removeValue(forKey: "num_key_value_heads")
        let mlp = text.removeValue(forKey: "mlp_layer_types") as! [String]
        text["moe_layers_enum"] = mlp.indices.filter { mlp[$0] == "sparse" }.map(String.init).joined(separator: ",")
        text["hidden_act"] = "swigluoai"
        config["text_config"] = text
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
        try FileManager.default.copyItem(atPath: source + "/model.safetensors", toPath: dir + "/model.safetensors")
        let sequence = try EngineGolden.load("step3p7").sequences[2].inputIds
        let native = try ForwardPass(checkpoint: Checkpoint(path: source), compute: .f32).run([sequence]) { _ in }
        let released = try ForwardPass(checkpoint: Checkpoint(path: dir), compute: .f32).run([sequence]) { _ in }
        XCTAssertEqual(released, native)
    }

    func testRopeScalingIsRefusedByTheForwardPass() throws {
        let source = EngineGolden.folder("step3p7")
        let dir = try Fixtures.scratch()
        var config = try Fixtures.json(source + "/config.json")
        var text = config["text_config"] as! [String: Any]
        text["rope_scaling"] = ["rope_type": "yarn", "factor": 4.0]
        config["text_config"] = text
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
        try FileManager.default.copyItem(atPath: source + "/model.safetensors", toPath: dir + "/model.safetensors")
        XCTAssertThrowsError(try ForwardPass(checkpoint: Checkpoint(path: dir), compute: .f32)) { error in
            XCTAssertTrue("\(error)".contains("rope_scaling is set; the forward pass runs Step's default rotation only"), "\(error)")
        }
    }

    /// The engine fixture's text config edited, and the error the forward pass stops with.
    private func forwardPassError(editing edit: (inout [String: Any]) -> Void) throws -> String {
        let dir = try copy(EngineGolden.folder("step3p7"), editing: edit)
        do {
            _ = try ForwardPass(checkpoint: Checkpoint(path: dir), compute: .f32)
        } catch {
            return "\(error)"
        }
        XCTFail("the forward pass accepted the edited config")
        return ""
    }

    /// num_attention_groups, the releases' num_key_value_heads, not dividing the heads of a layer the per-layer
    /// overrides leave alone: attention divided by heads / groups (0 here) and trapped, or with more heads than
    /// groups read keys past their rows.
    func testAttentionGroupsMustDivideEveryLayersHeads() throws {
        let error = try forwardPassError { text in
            text["num_attention_groups"] = 3
            text.removeValue(forKey: "num_key_value_heads")
            text["num_attention_heads"] = 2
            text["per_layer_config"] = ["1": ["num_attention_heads": 6], "2": ["num_attention_heads": 6]]
        }
        XCTAssertTrue(error.contains("layer 0 has 2 attention heads; it must be a positive multiple of the 3 key-value heads"), error)
    }

    /// Per-layer lists too short for a layer transformers reads are an IndexError there, not a default here.
    func testPerLayerListsTooShortAreRefused() throws {
        let theta = try forwardPassError { text in
            text.removeValue(forKey: "rope_parameters")
            text["rope_theta"] = [10000.0]
        }
        XCTAssertTrue(theta.contains("rope_theta has no entry for layer 1, the first sliding_attention layer (it has 1); transformers reads one"), theta)
        let partial = try forwardPassError { text in
            text.removeValue(forKey: "rope_parameters")
            text["rope_theta"] = 10000.0
            text["partial_rotary_factors"] = [0.5]
        }
        XCTAssertTrue(partial.contains("partial_rotary_factors has no entry for layer 1, the first sliding_attention layer (it has 1)"), partial)
        let limits = try forwardPassError { $0["swiglu_limits"] = [0, 0, 0.5] }
        XCTAssertTrue(limits.contains("swiglu_limits has 3 entries; transformers reads one for each of the first 4 layers"), limits)
        let shared = try forwardPassError { $0["swiglu_limits_shared"] = [0.4] }
        XCTAssertTrue(shared.contains("swiglu_limits_shared has 1 entries; transformers reads one for each of the first 4 layers"), shared)
    }

    /// head_dim 8 × 0.375 is 3 dimensions, which transformers rotates as 4 (two frequencies at exponents 0 and
    /// 2/3); the forward pass rotated 2 with one frequency and exited 0.
    func testAnOddRotaryWidthIsRefused() throws {
        let error = try forwardPassError { text in
            var rope = text["rope_parameters"] as! [String: [String: Any]]
            rope["full_attention"]!["partial_rotary_factor"] = 0.375
            text["rope_parameters"] = rope
        }
        XCTAssertTrue(error.contains("the full_attention layers rotate 3 of each head's 8 dimensions (head_dim times the partial rotary factor); the forward pass rotates an even number only"), error)
    }

    /// rope_parameters with an entry for only some layer types is ignored by Step3p7TextConfig, which then builds
    /// every type's rotation from rope_theta (10000 when absent): the full-attention entry's theta must not be used.
    func testRopeParametersForSomeTypesOnlyAreIgnored() throws {
        let source = EngineGolden.folder("step3p7")
        var runs: [[Float]] = []
        for partialEntry in [false, true] {
            let dir = try Fixtures.scratch()
            var config = try Fixtures.json(source + "/config.json")
            var text = config["text_config"] as! [String: Any]
            text["rope_parameters"] = partialEntry ? ["full_attention": ["rope_type": "default", "rope_theta": 500.0]] : nil
            text["rope_theta"] = 10000.0
            config["text_config"] = text
            try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
            try FileManager.default.copyItem(atPath: source + "/model.safetensors", toPath: dir + "/model.safetensors")
            let sequence = try EngineGolden.load("step3p7").sequences[2].inputIds
            runs.append(try ForwardPass(checkpoint: Checkpoint(path: dir), compute: .f32).run([sequence]) { _ in }.flatMap { $0 })
        }
        XCTAssertEqual(runs[1], runs[0])
    }

    /// rope_parameters with an entry for every layer type beside a flat rope_type: Step3p7TextConfig uses the
    /// entries (theta 500 here), as it does without the flat key; they were dropped for rope_theta's 10000.
    func testRopeParametersEntriesBesideAFlatKeyAreRead() throws {
        let source = EngineGolden.folder("step3p7")
        let sequence = try EngineGolden.load("step3p7").sequences[2].inputIds
        var runs: [[Float]] = []
        for flat in [false, true] {
            let dir = try Fixtures.scratch()
            var config = try Fixtures.json(source + "/config.json")
            var text = config["text_config"] as! [String: Any]
            var rope: [String: Any] = [
                "full_attention": ["rope_type": "default", "rope_theta": 500.0],
                "sliding_attention": ["rope_type": "default", "rope_theta": 500.0],
            ]
            if flat { rope["rope_type"] = "default" }
            text["rope_parameters"] = rope
            config["text_config"] = text
            try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
            try FileManager.default.copyItem(atPath: source + "/model.safetensors", toPath: dir + "/model.safetensors")
            runs.append(try ForwardPass(checkpoint: Checkpoint(path: dir), compute: .f32).run([sequence]) { _ in }.flatMap { $0 })
        }
        XCTAssertEqual(runs[1], runs[0])
    }
}
