import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimFamilies
@testable import MoESlimSlimming

/// DeepSeek-V3's multi-token-prediction block (`model.layers.<num_hidden_layers>.*`, fixtures/models/deepseek_v3-mtp)
/// has experts of its own that moe-slim cannot count: prune refuses it, or leaves it out when asked.
final class MTPPruneTests: XCTestCase {
    private func transform(_ beyond: PruneTransform.BeyondLayers) throws -> (Checkpoint, PruneTransform) {
        let input = try Checkpoint(path: Fixtures.model("deepseek_v3-mtp"))
        let model = try ModelFamilies.describe(input)
        let plan = try PruningPlan.load(Fixtures.model("deepseek_v3-mtp") + "/plan.json")
        return (input, try PruneTransform(checkpoint: input, model: model, plan: plan, beyondLayers: beyond))
    }

    func testTheBlockIsRefusedByDefault() throws {
        XCTAssertThrowsError(try transform(.refuse)) { error in
            XCTAssertEqual(
                (error as? MoESlimError)?.message,
                "model.layers.3.* lies beyond num_hidden_layers (3): a multi-token-prediction block with its own experts, which moe-slim cannot count (it has no MTP forward pass); pruning the model's experts would leave it inconsistent with the new expert count. Pass --drop-mtp to leave it out (num_nextn_predict_layers is set to 0)")
        }
    }

    /// Dropped, the tensors are exactly the independently pruned model's without the block, and the config says so.
    func testDroppedTheTensorsAreThoseOfTheModelWithoutIt() throws {
        let (input, t) = try transform(.drop)
        let out = try Fixtures.scratch() + "/out"
        try PruneWriter(input: input, transform: t, destination: out, sharding: .keepInput, force: false).write()
        let got = try Checkpoint(path: out)
        let expected = try Checkpoint(path: Fixtures.model("deepseek_v3-pruned") + "/model.safetensors")
        XCTAssertEqual(Set(got.names), Set(expected.names))
        for name in expected.names {
            XCTAssertTrue(got.bytes(of: name)!.elementsEqual(expected.bytes(of: name)!), "\(name) bytes differ")
        }
        XCTAssertEqual(t.config["num_nextn_predict_layers"]?.intValue, 0)
        XCTAssertEqual(t.config["moe_slim"]?["dropped_layers"]?.arrayValue?.compactMap(\.intValue), [3])
    }
}
