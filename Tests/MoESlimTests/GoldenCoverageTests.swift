import XCTest

/// Every registered model type has the goldens the golden tests compare it against: prune and report for all,
/// engine and eval where the family has a forward pass. A family added to the registry without them fails here.
final class GoldenCoverageTests: XCTestCase {
    func testEveryRegisteredModelTypeHasItsGoldens() {
        XCTAssertFalse(RegisteredFamilies.modelTypes.isEmpty)
        let problems = GoldenCoverage.problems(
            modelTypes: RegisteredFamilies.modelTypes, forwardPass: Set(RegisteredFamilies.forwardPassTypes), root: Fixtures.root.path)
        for problem in problems { XCTFail(problem) }
    }

    /// The forward pass is a capability of a registered family, never a family of its own.
    func testEveryForwardPassTypeIsRegistered() {
        let unregistered = Set(RegisteredFamilies.forwardPassTypes).subtracting(RegisteredFamilies.modelTypes)
        XCTAssertEqual(unregistered, [], "forward pass for model types the registry does not know")
    }

    func testAMissingGoldenIsNamedByModelTypeAndKind() {
        let problems = GoldenCoverage.problems(modelTypes: ["imaginary_moe"], forwardPass: ["imaginary_moe"], root: Fixtures.root.path)
        XCTAssertEqual(problems, [
            "model type 'imaginary_moe' has no prune golden (missing models/imaginary_moe/config.json, models/imaginary_moe/plan.json, models/imaginary_moe-pruned/model.safetensors, models/imaginary_moe-pruned/config.json); add it to fixtures/gen_models.py and run it",
            "model type 'imaginary_moe' has no report golden (missing models/imaginary_moe/golden.json); add it to fixtures/gen_models.py and run it",
            "model type 'imaginary_moe' has no engine golden (missing engine/imaginary_moe/config.json, engine/imaginary_moe/golden.json); add it to fixtures/gen_engine.py and run it",
            "model type 'imaginary_moe' has no eval golden (missing eval/logits/imaginary_moe.json); add it to fixtures/gen_eval.py and run it",
        ])
    }

    func testAFamilyWithoutAForwardPassNeedsOnlyPruneAndReportGoldens() {
        let problems = GoldenCoverage.problems(modelTypes: ["imaginary_moe"], forwardPass: [], root: Fixtures.root.path)
        XCTAssertEqual(problems.count, 2)
        XCTAssertTrue(problems[0].hasPrefix("model type 'imaginary_moe' has no prune golden"), problems[0])
        XCTAssertTrue(problems[1].hasPrefix("model type 'imaginary_moe' has no report golden"), problems[1])
    }

    /// A golden under one type's name made for another type is as good as missing.
    func testAGoldenMadeForAnotherModelTypeIsRefused() throws {
        let root = try Fixtures.scratch()
        try FileManager.default.createDirectory(atPath: root + "/eval/logits", withIntermediateDirectories: true)
        let source = Fixtures.root.appendingPathComponent("eval/logits/mixtral.json").path
        try FileManager.default.copyItem(atPath: source, toPath: root + "/eval/logits/olmoe.json")
        XCTAssertEqual(GoldenKind.eval.problem("olmoe", root: root), "model type 'olmoe': its eval golden eval/logits/olmoe.json was made for model_type 'mixtral'")
        XCTAssertNil(GoldenKind.eval.problem("mixtral", root: Fixtures.root.path))
    }
}
