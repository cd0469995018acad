import Foundation
import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimFamilies
@testable import MoESlimSlimming

/// FP8 block-scaled and compressed-tensors checkpoints are pruned without dequantizing: moe-slim's output must be,
/// tensor for tensor and byte for byte, what fixtures/gen_quantized.py got by plain dictionary surgery, with the
/// quantization_config that script rewrote (and transformers' AutoConfig read back).
final class QuantizedPruneTests: XCTestCase {
    static let cases = ["deepseek_v3-fp8", "minimax_m2-fp8", "mixtral-fp8-compressed", "qwen3_5_moe-fp8-fused", "qwen3_moe-nvfp4",
                        "kimi_k25-int4"]

    func quantized(_ name: String) -> String { Fixtures.root.appendingPathComponent("quantized/\(name)").path }

    func prune(_ folder: String, plan: String, into out: String) throws -> Checkpoint {
        let input = try Checkpoint(path: folder)
        let transform = try PruneTransform(checkpoint: input, model: try ModelFamilies.describe(input), plan: try PruningPlan.load(plan))
        try PruneWriter(input: input, transform: transform, destination: out, sharding: .keepInput, force: false).write()
        return try Checkpoint(path: out)
    }

    func testEveryQuantizedCheckpointMatchesTheIndependentPrune() {
        forEachGolden(Self.cases) { name in
            let out = try Fixtures.scratch() + "/out"
            let got = try prune(quantized(name), plan: quantized(name) + "/plan.json", into: out)
            let expected = try Checkpoint(path: quantized(name + "-pruned") + "/model.safetensors")
            XCTAssertEqual(Set(got.names), Set(expected.names), name)
            for tensor in expected.names {
                XCTAssertEqual(got.info(tensor)?.dtype, expected.info(tensor)?.dtype, "\(name) \(tensor)")
                XCTAssertEqual(got.info(tensor)?.shape, expected.info(tensor)?.shape, "\(name) \(tensor)")
                XCTAssertTrue(got.bytes(of: tensor).map { $0.elementsEqual(expected.bytes(of: tensor)!) } ?? false, "\(name) \(tensor) bytes differ")
            }
            var config = try Fixtures.json(out + "/config.json")
            config.removeValue(forKey: "moe_slim")
            let golden = try Fixtures.json(quantized(name + "-pruned") + "/config.json")
            XCTAssertEqual(Set(config.keys), Set(golden.keys), name)
            for (key, value) in golden {
                XCTAssertEqual(try canonical(config[key]), try canonical(value), "\(name) \(key)")
            }
        }
    }

    func testReportStatesTheBytesOfScales() throws {
        forEachGolden(Self.cases) { name in
            let golden = try Fixtures.json(quantized(name) + "/golden.json")
            let before = try SizeReport(Checkpoint(path: quantized(name)), context: 4096)
            let after = try SizeReport(Checkpoint(path: quantized(name + "-pruned") + "/model.safetensors", configPath: quantized(name + "-pruned") + "/config.json"), context: 4096)
            XCTAssertEqual(before.scaleBytes, golden["scale_bytes"] as? Int, name)
            XCTAssertEqual(after.scaleBytes, golden["pruned_scale_bytes"] as? Int, name)
        }
        let r = try CommandRunner.run(["report", quantized("deepseek_v3-fp8"), "--compare", quantized("deepseek_v3-fp8-pruned")])
        XCTAssertTrue(r.stdout.contains("\nquantization scales: 1.29 KiB → 936 B (included in bytes above)\n"), r.stdout)
        let json = try CommandRunner.run(["report", quantized("deepseek_v3-fp8"), "--json"])
        XCTAssertTrue(json.stdout.contains("\"scale_bytes\": 1320,"), json.stdout)
    }

    func testQuantizedRouterIsRefusedByName() throws {
        let folder = quantized("deepseek_v3-fp8-router"), out = try Fixtures.scratch() + "/out"
        let r = try CommandRunner.run(["prune", folder, out, "--plan", folder + "/plan.json"])
        XCTAssertEqual(r.status, 69)
        XCTAssertTrue(r.stderr.contains(
            "tensor 'model.layers.1.mlp.gate.weight_scale_inv': MoE layer 1: the router 'model.layers.1.mlp.gate.weight' is quantized (this tensor is beside it); removing experts would cut its rows out of their scale blocks"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        // Sweep only sizes the plan (and masks the router in memory), so it is not refused.
        let input = try Checkpoint(path: folder)
        XCTAssertNoThrow(try PruneTransform(
            checkpoint: input, model: ModelFamilies.describe(input), plan: PruningPlan.load(folder + "/plan.json"), multiTokenPrediction: .keepForSizing))
    }

    /// A copy of a quantized fixture with its quantization_config changed.
    func copy(_ name: String, editing edit: (inout [String: Any]) -> Void) throws -> String {
        let folder = try Fixtures.scratch() + "/" + name
        try FileManager.default.copyItem(atPath: quantized(name), toPath: folder)
        var config = try Fixtures.json(folder + "/config.json")
        var quantization = config["quantization_config"] as! [String: Any]
        edit(&quantization)
        config["quantization_config"] = quantization
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: folder + "/config.json"))
        return folder
    }

    func testPatternNamingAnExpertNumberIsRefused() throws {
        for (name, key) in [("qwen3_moe-nvfp4", "ignore"), ("deepseek_v3-fp8", "modules_to_not_convert")] {
            let entry = "re:.*mlp\\.experts\\.3\\..*"
            let folder = try copy(name) { $0[key] = ($0[key] as! [String]) + [entry] }
            XCTAssertThrowsError(try prune(folder, plan: folder + "/plan.json", into: try Fixtures.scratch() + "/out")) { error in
                XCTAssertEqual((error as? MoESlimError)?.code, .invalidConfig)
                XCTAssertEqual((error as? MoESlimError)?.message,
                               "quantization_config.\(key) entry '\(entry)' may name an expert by number in a way prune cannot renumber (a pattern or a suffix); list the experts' modules by their full names (or none) before pruning")
            }
        }
    }

    /// A config group's targets follow the same rule: a kept expert's module renumbered, a removed one's dropped.
    func testConfigGroupTargetsAreRenumbered() throws {
        let folder = try copy("mixtral-fp8-compressed") { q in
            var groups = q["config_groups"] as! [String: Any]
            var group = groups["group_0"] as! [String: Any]
            group["targets"] = ["Linear", "model.layers.1.block_sparse_moe.experts.3.w1", "model.layers.1.block_sparse_moe.experts.0"]
            groups["group_0"] = group
            q["config_groups"] = groups
        }
        let out = try Fixtures.scratch() + "/out"
        _ = try prune(folder, plan: folder + "/plan.json", into: out)
        let groups = try Fixtures.json(out + "/config.json")["quantization_config"].flatMap { ($0 as? [String: Any])?["config_groups"] } as? [String: Any]
        XCTAssertEqual((groups?["group_0"] as? [String: Any])?["targets"] as? [String], ["Linear", "model.layers.1.block_sparse_moe.experts.2.w1"])
    }

    func testModuleEntriesAreRenumberedDroppedOrKept() {
        let layers = [(prefix: "model.layers.1.mlp.experts.", newIndex: [0: 0, 5: 1, 6: 2])]
        let cases: [(String, QuantizedModules.Outcome)] = [
            ("model.layers.1.mlp.experts.5", .keep("model.layers.1.mlp.experts.1")),
            ("model.layers.1.mlp.experts.6.down_proj", .keep("model.layers.1.mlp.experts.2.down_proj")),
            ("model.layers.1.mlp.experts.3.down_proj", .drop),
            ("model.layers.1.mlp.experts", .keep("model.layers.1.mlp.experts")),
            ("model.layers.1.mlp.gate", .keep("model.layers.1.mlp.gate")),
            ("re:.*mlp.gate$", .keep("re:.*mlp.gate$")),
            ("model.layers.1.mlp.shared_experts.gate_proj", .keep("model.layers.1.mlp.shared_experts.gate_proj")),
            ("model.layers.1.mlp.experts.05", .refuse),
            ("model.layers.1.mlp.experts.[0-3]", .refuse),
            ("experts.3.down_proj", .refuse),
            ("re:model.layers.2.mlp.experts.1.*", .refuse),
        ]
        for (entry, expected) in cases {
            XCTAssertEqual(QuantizedModules.renumbered(entry, layers: layers), expected, entry)
        }
    }

    /// Scales that do not fit their weights in the configured blocks are named by describe (so prune refuses the
    /// checkpoint) and listed by verify.
    func testScaleShapesAreHeldToTheirWeights() throws {
        let folder = try copy("deepseek_v3-fp8") { $0["weight_block_size"] = [8, 8] }
        let problems = Verifier.check(folder, scan: false).problems.map(\.description)
        XCTAssertTrue(problems.contains(
            "\(folder): tensor 'model.layers.1.mlp.experts.0.down_proj.weight_scale_inv': has shape [4, 1], but 'model.layers.1.mlp.experts.0.down_proj.weight' [16, 8] in blocks of [8, 8] needs [2, 1]"), "\(problems)")
        XCTAssertThrowsError(try prune(folder, plan: folder + "/plan.json", into: try Fixtures.scratch() + "/out"))
        let defaulted = try copy("deepseek_v3-fp8") { $0.removeValue(forKey: "weight_block_size") }
        XCTAssertTrue(Verifier.check(defaulted, scan: false).problems.map(\.description).contains(
            "\(defaulted): tensor 'model.layers.1.mlp.experts.0.down_proj.weight_scale_inv': has shape [4, 1], but 'model.layers.1.mlp.experts.0.down_proj.weight' [16, 8] in blocks of [128, 128] needs [1, 1]"))
        let bad = try copy("deepseek_v3-fp8") { $0["weight_block_size"] = [0, 8] }
        XCTAssertEqual(Verifier.check(bad, scan: false).problems.map(\.description),
                       ["\(bad)/config.json: quantization_config.weight_block_size is [0,8], not two positive block sizes"])
        XCTAssertTrue(Verifier.check(quantized("deepseek_v3-fp8"), scan: false).passed)
    }

    /// Blocks round up (partial edge blocks), leading axes (a fused tensor's experts) stay, so a fused scale left
    /// with the old expert count no longer fits its sliced weight.
    func testBlockArithmetic() {
        XCTAssertEqual(BlockScales.expectedShape(weight: [7168, 2048], block: [128, 128]), [56, 16])
        XCTAssertEqual(BlockScales.expectedShape(weight: [129, 1], block: [128, 128]), [2, 1])
        XCTAssertEqual(BlockScales.expectedShape(weight: [8, 16], block: [4, 12]), [2, 2])
        XCTAssertEqual(BlockScales.expectedShape(weight: [3, 16, 8], block: [8, 8]), [3, 2, 1])
        XCTAssertEqual(BlockScales.expectedShape(weight: [16, 8], block: nil), [])
        XCTAssertNil(BlockScales.expectedShape(weight: [16], block: [4, 4]))
    }

    private func canonical(_ value: Any?) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: [value ?? NSNull()], options: [.sortedKeys]), as: UTF8.self)
    }
}
