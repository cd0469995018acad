import XCTest
@testable import MoESlimFormats
@testable import MoESlimFamilies
@testable import MoESlimEngine
@testable import MoESlimSlimming

/// A plan evaluated with masked routers must compute what the checkpoint prune writes for it computes: the
/// same logits, for softmax, sigmoid with group-limited selection, top-k-then-softmax, sparsemixer and
/// shared-expert routers.
final class SweepMaskTests: XCTestCase {
    func testMixtral() throws { try check("mixtral", kept: [0: [0, 2, 3, 5], 1: [1, 2, 4]]) }
    /// fixtures/models/deepseek_v3 has groups of 4, so a plan can keep 2 per group, the least transformers'
    /// group scoring (its best two) accepts; the engine fixture's groups of 2 leave nothing to prune.
    func testDeepseekV3GroupLimited() throws {
        try check("deepseek_v3", folder: Fixtures.model("deepseek_v3"), kept: [1: [0, 3, 5, 6], 2: [1, 2, 4, 7]])
    }
    func testGptOss() throws { try check("gpt_oss", kept: [0: [1, 2, 4], 1: [0, 3, 4, 5]]) }
    func testQwen2MoeSharedExpert() throws { try check("qwen2_moe", kept: [0: [0, 1, 4, 5, 7], 2: [2, 3, 5, 6]]) }
    func testPhimoeSparseMixer() throws { try check("phimoe", kept: [0: [0, 2, 3, 5], 1: [1, 4, 5]]) }
    func testGraniteMoe() throws { try check("granitemoe", kept: [0: [0, 1, 5], 1: [2, 3, 4]]) }
    /// Sigmoid routers whose choice a bias shifts: AFMoE's expert_bias parameter (with shared experts), LFM2's
    /// expert_bias buffer (renormalised with 1e-6).
    func testAfmoeExpertBias() throws { try check("afmoe", kept: [1: [0, 2, 3, 5, 7], 2: [1, 2, 4, 6]]) }
    func testLfm2MoeExpertBias() throws { try check("lfm2_moe", kept: [1: [0, 2, 3, 5, 7], 3: [1, 2, 4, 6]]) }
    /// Experts 6-8 are zero-compute: each layer keeps four with weights and two of them, ids renumbered in
    /// the pruned checkpoint (n_routed_experts 4, zero_expert_num 2).
    func testLongcatFlashZeroComputeExperts() throws {
        try check("longcat_flash", kept: [0: [0, 2, 3, 5, 6, 8], 1: [1, 2, 4, 5, 7, 8]])
    }
    /// Gemma 4: the router's per_expert_scale is sliced with its rows, and the dense MLP beside the experts stays.
    func testGemma4PerExpertScale() throws { try check("gemma4_text", kept: [0: [0, 2, 3, 5, 7], 1: [1, 2, 4, 6], 3: [0, 1, 2, 3, 4, 5]]) }
    func testTopKOverride() throws { try check("olmoe", kept: [0: [0, 1, 2, 6, 7], 1: [1, 3, 4, 5]], topK: 1) }

    /// On every kernel path this CPU has.
    private func check(_ name: String, folder: String? = nil, kept: [Int: [Int]], topK: Int? = nil) throws {
        try KernelPaths.each { _ in try checkOnePath(name, folder: folder, kept: kept, topK: topK) }
    }

    private func checkOnePath(_ name: String, folder: String?, kept: [Int: [Int]], topK: Int?) throws {
        let input = try Checkpoint(path: folder ?? EngineGolden.folder(name))
        let model = try ModelFamilies.describe(input)
        let plan = PruningPlan(kept: kept, topK: topK)
        let out = try Fixtures.scratch() + "/pruned"
        let transform = try PruneTransform(checkpoint: input, model: model, plan: plan)
        try PruneWriter(input: input, transform: transform, destination: out, sharding: .keepInput, force: false).write()
        let vocab = Int32(model.vocabSize)
        let sequences = try EngineGolden.load(name).sequences.map { $0.inputIds.map { $0 % vocab } }
        let masked = try ForwardPass(checkpoint: input).logits(sequences, masking: plan)
        let pruned = try ForwardPass(checkpoint: Checkpoint(path: out)).logits(sequences)
        let unmasked = try ForwardPass(checkpoint: input).logits(sequences)
        for s in sequences.indices {
            XCTAssertLessThanOrEqual(EvalAssert.worst(masked[s], pruned[s]), 1e-5, "\(name) sequence \(s)")
        }
        XCTAssertGreaterThan(zip(masked, unmasked).map { EvalAssert.worst($0, $1) }.max() ?? 0, 1e-4, "\(name): the plan should change the logits")
    }
}
