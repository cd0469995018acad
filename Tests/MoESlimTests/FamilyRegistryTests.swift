import Foundation
import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimFamilies

/// The one registry and what each family's one description derives: model types listed once, the forward pass
/// a capability of some families, and deepseek_v2's router read as transformers reads it.
final class FamilyRegistryTests: XCTestCase {
    func testEveryModelTypeIsRegisteredOnce() {
        let types = FamilyRegistry.families.flatMap { $0.modelTypes }
        XCTAssertEqual(types.count, Set(types).count, "\(types)")
        XCTAssertEqual(ModelFamilies.knownModelTypes, types.sorted())
        XCTAssertTrue(Set(EngineFamilies.supportedModelTypes).isSubset(of: types))
    }

    /// transformers' DeepseekV2Moe scores with a softmax and never renormalises the top-k, whatever
    /// scoring_func and norm_topk_prob say; the description and the forward pass both follow it.
    func testDeepseekV2IgnoresScoringFuncAndNormTopkProb() throws {
        let folder = try Fixtures.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let source = EngineGolden.folder("deepseek_v2")
        try FileManager.default.copyItem(atPath: source + "/model.safetensors", toPath: folder + "/model.safetensors")
        var config = try Fixtures.json(source + "/config.json")
        config["scoring_func"] = "sigmoid"
        config["norm_topk_prob"] = true
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: folder + "/config.json"))

        let checkpoint = try Checkpoint(path: folder)
        let model = try ModelFamilies.describe(checkpoint)
        XCTAssertEqual(model.routing.scoring, .softmax)
        XCTAssertFalse(model.routing.normalizeTopK)
        XCTAssertEqual(model.routing.scalingFactor, 1.5)
        XCTAssertNoThrow(try EngineFamilies.spec(for: checkpoint, model: model))
    }

    /// A config without routed_scaling_factor takes its config class's default: DeepseekV3Config's 2.5,
    /// DeepseekV2Config's 1.
    func testDeepseekScalingDefaultsAreTransformers() throws {
        for (family, expected) in [("deepseek_v3", 2.5), ("deepseek_v2", 1.0)] {
            let folder = try Fixtures.scratch()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let source = EngineGolden.folder(family)
            try FileManager.default.copyItem(atPath: source + "/model.safetensors", toPath: folder + "/model.safetensors")
            var config = try Fixtures.json(source + "/config.json")
            config.removeValue(forKey: "routed_scaling_factor")
            try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: folder + "/config.json"))
            XCTAssertEqual(try ModelFamilies.describe(Checkpoint(path: folder)).routing.scalingFactor, expected, family)
        }
    }

    /// A family without the forward pass is described, and calibrate refuses it by name.
    func testFamilyWithoutForwardPassIsRefusedByName() throws {
        let checkpoint = try Checkpoint(path: EngineGolden.folder("mixtral"))
        var model = try ModelFamilies.describe(checkpoint)
        model.forwardPass = nil
        XCTAssertThrowsError(try EngineFamilies.spec(for: checkpoint, model: model)) { error in
            XCTAssertEqual((error as? MoESlimError)?.code, .unsupportedModel)
            XCTAssertTrue("\(error)".contains("the forward pass for model_type 'mixtral' is not implemented"), "\(error)")
        }
    }

    /// Mistral Small 4's router: softmax scores, groups, no correction bias; experts fused as transformers 5.25 saves them.
    func testMistral4RoutesWithSoftmaxGroups() throws {
        let model = try ModelFamilies.describe(Checkpoint(path: EngineGolden.folder("mistral4")))
        XCTAssertEqual(model.routing, RoutingRule(scoring: .softmax, normalizeTopK: true, groups: 2, topkGroups: 1, scalingFactor: 1.5))
        XCTAssertEqual(model.moeLayers.map(\.layer), [1, 2])
        XCTAssertEqual(model.moeLayers[0].router.map(\.name), ["model.layers.1.mlp.gate.weight"])
    }

    /// Beyond original_max_position_embeddings, llama_4_scaling_beta scales the queries: calibrate refuses such a
    /// sequence by name instead of computing other logits than transformers.
    func testMistral4RefusesSequencesTheQueryScalingChanges() throws {
        let dir = try Fixtures.scratch()
        let data = dir + "/data.jsonl"
        try "{\"input_ids\": [\((0..<33).map { String($0 % 90) }.joined(separator: ", "))]}\n".write(toFile: data, atomically: true, encoding: .utf8)
        let r = try CommandRunner.run(["calibrate", EngineGolden.folder("mistral4"), "--data", data, "-o", dir + "/c.json"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("a sequence of 33 tokens is longer than rope_parameters.original_max_position_embeddings (32): llama_4_scaling_beta then scales the queries, which the forward pass does not implement; split sequences with --seq-len 32 or less"), r.stderr)
    }

    /// transformers rotates int(head_dim × partial_rotary_factor) dimensions; a config where that is not
    /// qk_rope_head_dim is refused by the forward pass, naming both.
    func testMistral4RotaryWidthMustBeQkRopeHeadDim() throws {
        let folder = try Fixtures.scratch()
        let source = EngineGolden.folder("mistral4")
        try FileManager.default.copyItem(atPath: source + "/model.safetensors", toPath: folder + "/model.safetensors")
        var config = try Fixtures.json(source + "/config.json")
        var rope = config["rope_parameters"] as! [String: Any]
        rope["partial_rotary_factor"] = 0.5
        config["rope_parameters"] = rope
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: folder + "/config.json"))
        let checkpoint = try Checkpoint(path: folder)
        let model = try ModelFamilies.describe(checkpoint)
        XCTAssertThrowsError(try EngineFamilies.spec(for: checkpoint, model: model)) { error in
            XCTAssertTrue("\(error)".contains("head_dim (16) × rope_parameters.partial_rotary_factor (0.5) is not qk_rope_head_dim (4)"), "\(error)")
        }
    }

    /// Gemma 4's MoE block is the decoder layer itself: router.proj and per_expert_scale are sliced, the experts
    /// are fused under experts., and the dense MLP beside them is kept as their shared expert.
    func testGemma4MoEBlockIsTheLayer() throws {
        let model = try ModelFamilies.describe(Checkpoint(path: Fixtures.model("gemma4")))
        XCTAssertEqual(model.configSection, "text_config")
        XCTAssertEqual(model.layersPrefix, "model.language_model.layers.")
        XCTAssertEqual(model.moeLayers.map(\.layer), [0, 1])
        let layer = model.moeLayers[1]
        XCTAssertEqual(layer.router.map(\.name), ["model.language_model.layers.1.router.proj.weight", "model.language_model.layers.1.router.per_expert_scale"])
        XCTAssertEqual(layer.experts, .fused([
            SlicedTensor(name: "model.language_model.layers.1.experts.down_proj", axis: 0),
            SlicedTensor(name: "model.language_model.layers.1.experts.gate_up_proj", axis: 0),
        ]))
        XCTAssertEqual(layer.shared, ["model.language_model.layers.1.mlp.down_proj.weight", "model.language_model.layers.1.mlp.gate_proj.weight", "model.language_model.layers.1.mlp.up_proj.weight"])
        XCTAssertEqual(layer.topK, 2)
    }

    /// A dense Gemma 4 (enable_moe_block false, its default) has no experts: every command refuses it by key.
    func testDenseGemma4IsRefused() throws {
        let dir = try Fixtures.scratch()
        let source = Fixtures.model("gemma4_text")
        var config = try Fixtures.json(source + "/config.json")
        config["enable_moe_block"] = false
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
        try FileManager.default.copyItem(atPath: source + "/model.safetensors", toPath: dir + "/model.safetensors")
        let r = try CommandRunner.run(["inspect", dir])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertEqual(r.stderr, "moe-slim: error: \(dir)/config.json: enable_moe_block is false; a dense Gemma 4 has no experts to prune\n")
    }
}
