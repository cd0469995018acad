import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimFamilies
@testable import MoESlimSlimming

/// Qwen3-Next's `mtp.` block has experts of its own that no plan covers: prune drops it when asked and otherwise
/// refuses, so a pruned checkpoint never holds a block whose experts disagree with the config.
final class MultiTokenPredictionTests: XCTestCase {
    private let input = Fixtures.model("qwen3_next-mtp")

    func testTheBlockIsDescribed() throws {
        let model = try ModelFamilies.describe(Checkpoint(path: input))
        XCTAssertEqual(model.multiTokenPrediction, MultiTokenPrediction(prefixes: ["mtp."], configKey: "mtp_num_hidden_layers", tensors: 29))
        XCTAssertNil(try ModelFamilies.describe(Checkpoint(path: Fixtures.model("qwen3_next"))).multiTokenPrediction)
    }

    func testPruneWithoutDropMtpIsRefused() throws {
        let out = try Fixtures.scratch() + "/out"
        let result = try CommandRunner.run(["prune", input, out, "--plan", input + "/plan.json"])
        XCTAssertEqual(result.status, 64)
        XCTAssertEqual(
            result.stderr,
            "moe-slim: error: \(input): the checkpoint has a multi-token-prediction block (29 tensors under 'mtp.') with experts of its own, which this plan does not cover; pass --drop-mtp to leave it out (mtp_num_hidden_layers becomes 0)\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    /// Dropped, the result is the independently pruned qwen3_next, byte for byte, with mtp_num_hidden_layers 0.
    func testDropMtpLeavesTheBlockOut() throws {
        let out = try Fixtures.scratch() + "/out"
        let result = try CommandRunner.run(["prune", input, out, "--plan", input + "/plan.json", "--drop-mtp"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let got = try Checkpoint(path: out)
        let expected = try Checkpoint(path: Fixtures.model("qwen3_next-pruned") + "/model.safetensors")
        XCTAssertEqual(Set(got.names), Set(expected.names))
        for name in expected.names {
            XCTAssertTrue(got.bytes(of: name)!.elementsEqual(expected.bytes(of: name)!), name)
        }
        let config = try Fixtures.json(out + "/config.json")
        XCTAssertEqual(config["mtp_num_hidden_layers"] as? Int, 0)
        XCTAssertEqual(config["num_experts"] as? Int, 3)
    }

    /// A plan that keeps every expert leaves the block consistent, so it is copied.
    func testAPlanThatKeepsEveryExpertKeepsTheBlock() throws {
        let checkpoint = try Checkpoint(path: input)
        let model = try ModelFamilies.describe(checkpoint)
        let all = PruningPlan(kept: Dictionary(uniqueKeysWithValues: model.moeLayers.map { ($0.layer, Array(0..<$0.numExperts)) }))
        let transform = try PruneTransform(checkpoint: checkpoint, model: model, plan: all)
        XCTAssertEqual(transform.tensors.filter { $0.name.hasPrefix("mtp.") }.count, 29)
    }
}
