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

    /// The choices `--criterion` offers are the statistics' criteria, then random and aimer, each named once and
    /// parsed back by name; `saliency`, the sum's name before `reap` existed, still means the sum.
    func testCriteriaComeFromTheStatistics() {
        XCTAssertEqual(ExpertSelection.Criterion.allCases.map(\.name),
                       ["hard", "soft", "soft-softmax", "saliency-sum", "reap", "ean", "man", "random", "aimer"])
        for criterion in ExpertSelection.Criterion.allCases {
            XCTAssertEqual(ExpertSelection.Criterion(rawValue: criterion.name), criterion)
        }
        XCTAssertEqual(ExpertSelection.Criterion(rawValue: "saliency")?.name, "saliency-sum")
        XCTAssertNil(ExpertSelection.Criterion(rawValue: "entropy_sum"))
        XCTAssertNil(ExpertSelection.Criterion(rawValue: "max-abs-output"))
        XCTAssertFalse(ExpertSelection.Criterion.explained.contains("saliency ("), "the alias is not offered")
    }

    private func criterion(_ name: String) throws -> ExpertSelection.Criterion {
        try XCTUnwrap(ExpertSelection.Criterion(rawValue: name))
    }

    /// REAP's mean keeps rarely routed experts with large contributions, which the sum ranks low; MAN does the
    /// same without the gate weight, EAN is the sum of norms.
    func testReapAndManRankByTheMeanPerRoutedToken() throws {
        let m = try model("mixtral")
        var c = counts(m, [0: [8, 2, 4, 2], 1: [8, 2, 4, 2]])
        for i in c.layers.indices {
            c.layers[i].saliency = [8, 6, 8, 1]
            c.layers[i].sums[.ean] = [40, 4, 16, 10]
        }
        func kept(_ name: String) throws -> [Int] {
            try ExpertSelection(criterion: criterion(name), strategy: .layer, amount: .keep(2), topK: nil)
                .plan(model: m, counts: c, countsPath: "c").kept[0]!
        }
        XCTAssertEqual(try kept("saliency-sum"), [0, 2])
        XCTAssertEqual(try kept("saliency"), [0, 2])
        XCTAssertEqual(try kept("reap"), [1, 2])
        XCTAssertEqual(try kept("ean"), [0, 2])
        XCTAssertEqual(try kept("man"), [0, 3])
    }

    /// Counts from an older calibrate have no ean: ranking by it names the key instead of ranking by zeros.
    func testCriterionOverAnAbsentStatisticIsRefused() throws {
        let m = try model("mixtral")
        var c = counts(m, [0: [5, 9, 9, 1], 1: [3, 3, 3, 3]])
        for i in c.layers.indices { c.layers[i].sums[.ean] = [] }
        XCTAssertThrowsError(try ExpertSelection(criterion: criterion("man"), strategy: .layer, amount: .keep(2), topK: nil)
            .plan(model: m, counts: c, countsPath: "old.json")) { error in
            XCTAssertEqual("\(error)", "old.json: the counts have no ean (written by an older calibrate); re-run calibrate to rank by man")
        }
    }

    /// The random baseline needs no counts, depends on the seed only, and follows the documented SplitMix64 rule
    /// (the plans below are worked out with it in Python).
    func testRandomPlansFollowTheSeed() throws {
        let m = try model("mixtral")
        func kept(_ seed: UInt64) throws -> [Int: [Int]] {
            try ExpertSelection(criterion: .random, strategy: .layer, amount: .keep(2), topK: nil, seed: seed)
                .plan(model: m, counts: nil, weights: nil).kept
        }
        XCTAssertEqual(try kept(0), [0: [2, 3], 1: [1, 2]])
        XCTAssertEqual(try kept(7), [0: [0, 1], 1: [1, 3]])
        XCTAssertEqual(RandomScores(seed: 7).score(layer: 1, expert: 3), 7357605323428522)
    }

    /// AIMER keeps the experts with the lowest mean |w| / RMS(w), as the authors' code prunes the highest;
    /// it reads the checkpoint and no counts.
    func testAimerKeepsTheLowestScores() throws {
        let checkpoint = try Checkpoint(path: Fixtures.model("mixtral"))
        let m = try ModelFamilies.describe(checkpoint)
        let scores = try AimerScores.table(checkpoint, model: m)
        let plan = try ExpertSelection(criterion: .aimer, strategy: .layer, amount: .keep(2), topK: nil)
            .plan(model: m, counts: nil, weights: checkpoint)
        for layer in m.moeLayers {
            let lowest = scores[layer.layer]!.enumerated().sorted { ($0.element, $0.offset) < ($1.element, $1.offset) }.prefix(2).map(\.offset)
            XCTAssertEqual(plan.kept[layer.layer], lowest.sorted())
        }
        XCTAssertThrowsError(try ExpertSelection(criterion: criterion("hard"), strategy: .layer, amount: .keep(2), topK: nil)
            .plan(model: m, counts: nil, weights: checkpoint)) { error in
            XCTAssertEqual("\(error)", "--criterion hard ranks by a counts file; give --counts")
        }
    }

    /// REAP's rule on hand-made maxima: threshold max(99.5th percentile, largest / 10), first 75% of MoE layers.
    func testSuperExpertsByReapsRule() throws {
        XCTAssertEqual(SuperExperts.reapThreshold([1, 2, 3, 4, 100]), 0.98 * 100 + 0.02 * 4, accuracy: 1e-12)
        XCTAssertEqual(SuperExperts.reapThreshold([1, 1, 1, 1, 1, 1, 1, 1, 1, 30] + Array(repeating: 1, count: 390)), 3)
        let m = try model("mixtral")
        var c = counts(m, [0: [5, 9, 9, 1], 1: [3, 3, 3, 3]])
        c.layers[0].sums[.maxAbsOutput] = [1, 1, 1, 1]
        c.layers[1].sums[.maxAbsOutput] = [1, 1, 1, 50]
        // Two MoE layers: the first 75% is layer 0 only, so REAP's default finds none there.
        XCTAssertEqual(try SuperExperts(counts: c, rule: .init(), path: "c").experts, [])
        c.layers[0].sums[.maxAbsOutput] = [60, 1, 1, 1]
        let found = try SuperExperts(counts: c, rule: .init(), path: "c")
        XCTAssertEqual(found.experts, [SuperExperts.Expert(layer: 0, expert: 0, maxAbsOutput: 60)])
        XCTAssertEqual(try SuperExperts(counts: c, rule: .init(allLayers: true), path: "c").experts.map(\.expert), [0], "59.65 keeps 50 out")
        XCTAssertEqual(try SuperExperts(counts: c, rule: .init(threshold: 10, allLayers: true), path: "c").experts.map(\.layer), [0, 1])
        XCTAssertEqual(try SuperExperts(counts: c, rule: .init(threshold: 0.5), path: "c").experts.count, 4)
        // The criterion alone keeps experts 1 and 2 of layer 0; super expert 0 displaces the weaker of them.
        let plan = try ExpertSelection(criterion: criterion("hard"), strategy: .layer, amount: .keep(2), topK: nil, superExperts: .init())
            .plan(model: m, counts: c, countsPath: "c")
        XCTAssertEqual(plan.kept, [0: [0, 1], 1: [0, 1]])
        for i in c.layers.indices { c.layers[i].sums[.maxAbsOutput] = [] }
        XCTAssertThrowsError(try SuperExperts(counts: c, rule: .init(), path: "old.json")) { error in
            XCTAssertEqual("\(error)", "old.json: the counts have no max_abs_output (written by an older calibrate); re-run calibrate to find super experts")
        }
    }
}
