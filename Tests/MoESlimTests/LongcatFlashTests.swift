import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimFamilies
@testable import MoESlimSlimming

/// LongCat-Flash's zero-compute experts (fixtures/models/longcat_flash: 4 experts with weights, ids 4 and 5
/// zero-compute, top-2, two layers): counted and pruned like any expert, with the split the config can say.
final class LongcatFlashTests: XCTestCase {
    private func model() throws -> (Checkpoint, ModelDescription) {
        let checkpoint = try Checkpoint(path: Fixtures.model("longcat_flash"))
        return (checkpoint, try ModelFamilies.describe(checkpoint))
    }

    func testRouterRowsCountZeroComputeExpertsAndTensorsDoNot() throws {
        let (_, m) = try model()
        XCTAssertEqual(m.numLayers, 2)
        XCTAssertEqual(m.zeroComputeKey, "zero_expert_num")
        for layer in m.moeLayers {
            XCTAssertEqual(layer.numExperts, 6)
            XCTAssertEqual(layer.zeroComputeExperts, 2)
            guard case .separate(_, let perExpert) = layer.experts else { return XCTFail("per-expert storage") }
            XCTAssertEqual(perExpert.count, 4)
            XCTAssertEqual(layer.router.map(\.name), ["model.layers.\(layer.layer).mlp.router.classifier.weight",
                                                      "model.layers.\(layer.layer).mlp.router.e_score_correction_bias"])
        }
    }

    func testPlanKeepingADifferentSplitPerLayerIsRefused() throws {
        let (_, m) = try model()
        let plan = PruningPlan(kept: [0: [0, 1, 4], 1: [0, 4, 5]])
        XCTAssertThrowsError(try plan.validate(against: m, source: "p.json")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("layer 1 keeps 1 experts with weights and 2 zero-compute experts"), text)
            XCTAssertTrue(text.contains("one n_routed_experts and one zero_expert_num"), text)
        }
    }

    func testPlanKeepingOnlyZeroComputeExpertsIsRefused() throws {
        let (_, m) = try model()
        XCTAssertThrowsError(try PruningPlan(kept: [0: [4, 5], 1: [4, 5]]).validate(against: m, source: "p.json")) { error in
            XCTAssertTrue("\(error)".contains("keeps no expert with weights"), "\(error)")
        }
    }

    /// Keeping 3 of 6, a third of them zero-compute as in the model: 2 with weights and 1 zero-compute per layer,
    /// each the best of its part by the counts.
    func testLayerStrategyKeepsTheModelsShareOfZeroComputeExperts() throws {
        let (_, m) = try model()
        var counts = ExpertCounts(model: m)
        let hard: [Int: [Double]] = [0: [1, 9, 8, 2, 3, 7], 1: [9, 9, 1, 1, 8, 0]]
        for i in counts.layers.indices { counts.layers[i].hard = hard[counts.layers[i].layer]! }
        let plan = try ExpertSelection(criterion: .init(.hard), strategy: .layer, amount: .keep(3), topK: nil)
            .plan(model: m, counts: counts, countsPath: "c")
        XCTAssertEqual(plan.kept, [0: [1, 2, 5], 1: [0, 1, 4]])
        XCTAssertThrowsError(try ExpertSelection(criterion: .init(.hard), strategy: .global, amount: .keep(3), topK: nil)
            .plan(model: m, counts: counts, countsPath: "c"))
    }

    func testAimerAndMergeRefuseExpertsWithoutWeights() throws {
        let (checkpoint, m) = try model()
        XCTAssertThrowsError(try checkpoint.expertPieces(m.moeLayers[0])) { error in
            XCTAssertTrue("\(error)".contains("zero-compute experts have none"), "\(error)")
        }
        let plan = PruningPlan(kept: [0: [0, 2, 5], 1: [1, 3, 4]])
        let counts = ExpertCounts(model: m)
        XCTAssertThrowsError(try ExpertMerge(checkpoint: checkpoint, model: m, plan: plan, counts: counts, countsPath: "c")) { error in
            XCTAssertTrue("\(error)".contains("zero-compute experts have none"), "\(error)")
        }
    }

    /// Routed-expert parameters count k / E with E counting the zero-compute experts (the expected share under
    /// uniform routing), and each decoder layer's two attentions each add to the mask FLOPs.
    func testReportCountsZeroComputeExpertsInTheShareAndBothAttentions() throws {
        let (checkpoint, m) = try model()
        let report = try SizeReport(checkpoint, context: 128)
        let experts = report.rows.first { $0.component == .moeFeedForward }!
        XCTAssertEqual(experts.params, 2 * 4 * 3 * 16 * 6)
        XCTAssertEqual(experts.activeParams, 2 * 4 * 3 * 16 * 6 * 2 / 6)
        let mask = report.rows.first { $0.component == .attentionMask }!
        XCTAssertEqual(mask.flopsPerToken, 2 * 2 * 2 * 128 * Double(m.attention.numHeads * m.attention.queryKeyHeadDim))
        XCTAssertEqual(report.rows.first { $0.component == .denseFeedForward }?.params, 2 * 2 * 3 * 16 * 8)
    }
}

/// Configs transformers would read differently or refuse, on copies of the fixture's tensors.
final class LongcatFlashConfigTests: XCTestCase {
    private func describe(_ edit: (inout [String: Any]) -> Void) throws -> ModelDescription {
        let folder = try Fixtures.scratch()
        var config = try Fixtures.json(Fixtures.model("longcat_flash") + "/config.json")
        edit(&config)
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: folder + "/config.json"))
        try FileManager.default.copyItem(atPath: Fixtures.model("longcat_flash") + "/model.safetensors", toPath: folder + "/model.safetensors")
        return try ModelFamilies.describe(Checkpoint(path: folder))
    }

    /// LongcatFlashConfig sets num_layers to num_hidden_layers // 2 when a config states both.
    func testNumHiddenLayersWinsAsTwiceTheDecoderLayers() throws {
        let m = try describe { $0["num_hidden_layers"] = 2 }
        XCTAssertEqual(m.numLayers, 1)
        XCTAssertEqual(m.moeLayers.map(\.layer), [0])
    }

    func testLayerCountIsBoundedBeforeUse() {
        XCTAssertThrowsError(try describe { $0["num_layers"] = 20_000 }) { error in
            XCTAssertTrue("\(error)".contains("num_layers is 20000, outside 0...10000"), "\(error)")
        }
    }

    /// Router rows still number six, but expert 3's tensors are past the 3 experts with weights the config states.
    func testExpertTensorsPastTheExpertsWithWeightsAreRefused() {
        XCTAssertThrowsError(try describe { $0["n_routed_experts"] = 3; $0["zero_expert_num"] = 3 }) { error in
            XCTAssertTrue("\(error)".contains("expert 3 is out of range (config: 3 experts with weights and 3 zero-compute experts without)"), "\(error)")
        }
    }
}
