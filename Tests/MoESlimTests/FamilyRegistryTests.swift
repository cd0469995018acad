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
}
