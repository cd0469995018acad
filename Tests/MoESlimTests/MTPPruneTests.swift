import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimFamilies
@testable import MoESlimSlimming

/// DeepSeek-V3's multi-token-prediction block (`model.layers.<num_hidden_layers>.*`, fixtures/models/deepseek_v3-mtp)
/// has experts of its own that moe-slim cannot count: prune refuses it, or leaves it out when asked.
final class MTPPruneTests: XCTestCase {
    private func transform(_ choice: PruneTransform.MultiTokenPredictionChoice) throws -> (Checkpoint, PruneTransform) {
        let input = try Checkpoint(path: Fixtures.model("deepseek_v3-mtp"))
        let model = try ModelFamilies.describe(input)
        let plan = try PruningPlan.load(Fixtures.model("deepseek_v3-mtp") + "/plan.json")
        return (input, try PruneTransform(checkpoint: input, model: model, plan: plan, multiTokenPrediction: choice))
    }

    func testTheBlockIsRefusedByDefault() throws {
        XCTAssertThrowsError(try transform(.refuse)) { error in
            XCTAssertEqual(
                (error as? MoESlimError)?.message,
                "the checkpoint has a multi-token-prediction block (42 tensors under 'model.layers.3.') with experts of its own, which this plan does not cover; pass --drop-mtp to leave it out (num_nextn_predict_layers becomes 0)")
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
    }
}
