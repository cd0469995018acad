import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimFamilies
@testable import MoESlimSlimming

/// Heavy-hitter choices on hand-made counts, with the plans worked out by hand.
final class ExpertSelectionTests: XCTestCase {
    func model(_ type: String) throws -> ModelDescription {
        try ModelFamilies.describe(Checkpoint(path: Fixtures.model(type)))
    }

    func counts(_ model: ModelDescription, _ hard: [Int: [Double]]) -> ExpertCounts {
        var c = ExpertCounts(model: model)
        for i in c.layers.indices {
            c.layers[i].hard = hard[c.layers[i].layer]!
            c.layers[i].soft = hard[c.layers[i].layer]!.map { $0 / 10 }
        }
        return c
    }

    func testLayerStrategyKeepsTheMostUsedAndBreaksTiesByLowerId() throws {
        let m = try model("mixtral")
        let c = counts(m, [0: [5, 9, 9, 1], 1: [3, 3, 3, 3]])
        let plan = try ExpertSelection(criterion: .init(.hard), strategy: .layer, amount: .keep(2), topK: nil)
            .plan(model: m, counts: c, countsPath: "c")
        XCTAssertEqual(plan.kept, [0: [1, 2], 1: [0, 1]])
    }

    func testSparsityRoundsToWholeExperts() throws {
        let m = try model("mixtral")
        let c = counts(m, [0: [5, 9, 8, 1], 1: [1, 2, 3, 4]])
        let plan = try ExpertSelection(criterion: .init(.soft), strategy: .layer, amount: .sparsity(0.25), topK: nil)
            .plan(model: m, counts: c, countsPath: "c")
        XCTAssertEqual(plan.kept, [0: [0, 1, 2], 1: [1, 2, 3]])
    }

    func testGlobalStrategyRanksAcrossLayersAboveAFloorOfTopK() throws {
        let m = try model("mixtral")
        // 8 experts in all, keep 5: floor takes the best 2 of each layer (0: e1 e2, 1: e3 e0), then the best
        // remaining score overall is layer 0's e0 (7).
        let c = counts(m, [0: [7, 20, 30, 1], 1: [2, 0, 1, 3]])
        let plan = try ExpertSelection(criterion: .init(.hard), strategy: .global, amount: .sparsity(0.375), topK: nil)
            .plan(model: m, counts: c, countsPath: "c")
        XCTAssertEqual(plan.kept, [0: [0, 1, 2], 1: [0, 3]])
    }

    func testGroupLimitedRoutingKeepsEqualGroups() throws {
        let m = try model("deepseek_v3")
        XCTAssertEqual(m.routing.groups, 2)
        let c = counts(m, [1: [9, 8, 7, 6, 1, 2, 3, 4], 2: [1, 1, 1, 1, 5, 5, 5, 5]])
        let plan = try ExpertSelection(criterion: .init(.hard), strategy: .layer, amount: .keep(4), topK: nil)
            .plan(model: m, counts: c, countsPath: "c")
        XCTAssertEqual(plan.kept, [1: [0, 1, 6, 7], 2: [0, 1, 4, 5]])
        XCTAssertThrowsError(try ExpertSelection(criterion: .init(.hard), strategy: .layer, amount: .keep(3), topK: nil)
            .plan(model: m, counts: c, countsPath: "c"))
        XCTAssertThrowsError(try ExpertSelection(criterion: .init(.hard), strategy: .global, amount: .keep(4), topK: nil)
            .plan(model: m, counts: c, countsPath: "c"))
    }

    func testCountsFromAnotherModelAreRefused() throws {
        let c = counts(try model("mixtral"), [0: [1, 2, 3, 4], 1: [1, 2, 3, 4]])
        XCTAssertThrowsError(try ExpertSelection(criterion: .init(.hard), strategy: .layer, amount: .keep(2), topK: nil)
            .plan(model: model("olmoe"), counts: c, countsPath: "c.json")) { error in
            XCTAssertEqual((error as? MoESlimError)?.code, .invalidCounts)
            XCTAssertTrue("\(error)".contains("counts were made on another model"), "\(error)")
        }
    }

    func testPlansThatCannotLoadAreRefused() throws {
        let m = try model("mixtral")
        let cases: [(PruningPlan, String)] = [
            (PruningPlan(kept: [5: [0, 1]]), "layer 5 is not an MoE layer (MoE layers: 0, 1)"),
            (PruningPlan(kept: [0: [0, 4]]), "layer 0: expert 4 is out of range (0..<4)"),
            (PruningPlan(kept: [0: [1]]), "layer 0 keeps 1 experts, fewer than top-k 2"),
            (PruningPlan(kept: [0: [1, 2]], topK: 3), "layer 0 keeps 2 experts, fewer than top-k 3"),
        ]
        for (plan, message) in cases {
            XCTAssertThrowsError(try plan.validate(against: m, source: "p.json")) { error in
                XCTAssertEqual("\(error)", "p.json: \(message)")
                XCTAssertEqual((error as? MoESlimError)?.code, .invalidPlan)
            }
        }
    }

    func testPlanFileWithDuplicateIdsIsRefused() throws {
        let dir = try Fixtures.scratch()
        try #"{"layers": {"0": [1, 1, 2]}}"#.write(toFile: dir + "/p.json", atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try PruningPlan.load(dir + "/p.json")) { error in
            XCTAssertEqual("\(error)", dir + "/p.json: layer 0 lists an expert twice")
        }
    }

    /// A ranking derived from two statistics (REAP's mean saliency per routed token is saliency ÷ hard) keeps
    /// other experts than either statistic alone; an expert never routed scores 0, not NaN.
    func testNormalisedCriterionRanksByTheRatio() throws {
        let m = try model("mixtral")
        var c = counts(m, [0: [8, 2, 4, 0], 1: [1, 2, 3, 4]])
        for i in c.layers.indices { c.layers[i].saliency = [8, 6, 8, 0] }
        let mean = ExpertSelection.Criterion(name: "mean-saliency", statistic: .saliency, normalisedBy: .hard, summary: "mean")
        let plan = try ExpertSelection(criterion: mean, strategy: .layer, amount: .keep(2), topK: nil)
            .plan(model: m, counts: c, countsPath: "c")
        XCTAssertEqual(plan.kept, [0: [1, 2], 1: [0, 1]])
        let lowest = ExpertSelection.Criterion(name: "least-hard", statistic: .hard, direction: .keepLowest, summary: "least")
        let rare = try ExpertSelection(criterion: lowest, strategy: .layer, amount: .keep(2), topK: nil)
            .plan(model: m, counts: c, countsPath: "c")
        XCTAssertEqual(rare.kept, [0: [1, 3], 1: [0, 1]])
    }

    /// The choices `--criterion` offers are the statistics' criteria, each named once and parsed back by name.
    func testCriteriaComeFromTheStatistics() {
        XCTAssertEqual(ExpertSelection.Criterion.allCases.map(\.name), ["hard", "soft", "soft-softmax", "saliency"])
        for criterion in ExpertSelection.Criterion.allCases {
            XCTAssertEqual(ExpertSelection.Criterion(rawValue: criterion.name), criterion)
        }
        XCTAssertNil(ExpertSelection.Criterion(rawValue: "entropy_sum"))
    }
}
