import Foundation
import XCTest
@testable import MoESlimFormats
@testable import MoESlimSlimming

/// Every merged tensor against PEFT's merge_and_unload (fixtures/gen_lora.py), every other tensor against the base
/// byte for byte. Differences are counted in units in the last place of the stored type.
final class LoRAGoldenTests: XCTestCase {
    func testAttentionIsBitExact() throws { try check("attention", maxULP: 0) }
    func testRsLoRAIsBitExact() throws { try check("rslora", maxULP: 0) }
    func testRankAndAlphaPatternsAreBitExact() throws { try check("patterns", maxULP: 0) }
    func testLayersToTransformIsBitExact() throws { try check("layers", maxULP: 0) }
    func testModulesToSaveIsBitExact() throws { try check("modules-to-save", maxULP: 0) }
    func testExpertsAndRouterAreBitExact() throws { try check("experts-router", maxULP: 0) }
    func testPrunedCheckpointIsBitExact() throws { try check("pruned", maxULP: 0) }
    /// gpt_oss keeps its experts fused on disk, laid out (experts, in, out) with gate and up interleaved.
    func testGptOssFusedExpertsAreBitExact() throws { try check("gpt-oss-experts", maxULP: 0) }
    func testTwoAdaptersInOrderAreBitExact() throws { try check("two-adapters", maxULP: 0) }

    /// MLA projections, and transformers 4 target names (gate_proj, up_proj, down_proj, gate) that PEFT rewrote into
    /// fused-expert parameters at rank 2r, split back onto the per-expert tensors.
    func testDeepseekV2IsBitExact() throws { try check("deepseek-v2", maxULP: 0) }
    /// Experts, router and shared experts as target_parameters (how PEFT reaches shared experts on transformers 5).
    func testDeepseekV3IsBitExact() throws { try check("deepseek-v3", maxULP: 0) }
    func testGlm4MoeIsBitExact() throws { try check("glm4-moe", maxULP: 0) }
    /// Fused on disk as input_linear/output_linear, router under router.layer.
    func testGraniteMoeIsBitExact() throws { try check("granitemoe", maxULP: 0) }
    /// moe_statics saved whole (modules_to_save) at its training-time place under mlp.gate.
    func testErnie45MoeIsBitExact() throws { try check("ernie4-5-moe", maxULP: 0) }
    /// Fused on disk as at training time, (experts, in, out), which PEFT reads as (experts, out, in).
    func testLlama4TextIsBitExact() throws { try check("llama4-text", maxULP: 0) }
    /// Gated DeltaNet's projections, the gated attention, the shared expert's gate, and the fused training-time
    /// experts and router split back onto per-expert tensors.
    func testQwen3NextIsBitExact() throws { try check("qwen3-next", maxULP: 0) }
    /// A vision-language wrapper (model.language_model.) with its fused experts output-major, as transformers 5
    /// saves them and trains on them.
    func testQwen3VlMoeIsBitExact() throws { try check("qwen3-vl-moe", maxULP: 0) }
    /// Gemma 4: attention, the router's projection, the dense MLP and the fused experts under their disk names.
    func testGemma4TextIsBitExact() throws { try check("gemma4-text", maxULP: 0) }
    /// Mistral Small 4 in Mistral 3's wrapper: trained as model.language_model., model.vision_tower. and lm_head,
    /// stored as language_model.model., vision_tower. and language_model.lm_head; fused experts in both.
    func testMistral3IsBitExact() throws { try check("mistral3", maxULP: 0) }
    /// Kimi-K2.5: trained as model.language_model. and lm_head, stored as language_model.model. and
    /// language_model.lm_head; MLA projections, router, shared and fused experts.
    func testKimiK25IsBitExact() throws { try check("kimi-k25", maxULP: 0) }
    /// GLM-4.5V: attention, router and shared experts, and the fused training-time experts split back onto the
    /// per-expert tensors stored under model.language_model.
    func testGlm4vMoeIsBitExact() throws { try check("glm4v-moe", maxULP: 0) }
    /// Meta's Llama 4 wrapper: the language model under language_model. at training time and on disk, its fused
    /// experts as stored, and the vision tower's q_proj and k_proj beside it.
    func testLlama4IsBitExact() throws { try check("llama4", maxULP: 0) }
    /// Step-3.7-Flash: trained as model.language_model. (mlp.gate, mlp.shared_experts., fused mlp.experts.) and
    /// model.multi_modal_projector, stored as released (model.layers., moe.gate, share_expert., moe.down_proj
    /// stack, vit_large_projector); attention with its g_proj, the dense MLP, router, shared and routed down_proj.
    func testStep3p7IsBitExact() throws { try check("step3p7", maxULP: 0) }
    /// LongCat-Flash: both MLA sublayers, the router's classifier (rows for the zero-compute experts too) and the
    /// experts fused at training time, which exist on disk only for the experts with weights.
    func testLongcatFlashIsBitExact() throws { try check("longcat-flash", maxULP: 0) }

    /// Adapters trained on per-expert nn.Linear (transformers 4 names, which are the disk names), on a bf16 base.
    func testPerExpertLinearsAreBitExact() throws { try check("per-expert-linears", maxULP: 0) }
    func testFanInFanOutIsBitExact() throws { try check("fan-in-fan-out", maxULP: 0) }
    func testLoRABiasIsBitExact() throws { try check("lora-bias", maxULP: 0) }

    func testDoRAIsBitExact() throws { try check("dora", maxULP: 0) }
    func testBF16DoRAIsBitExact() throws { try check("bf16-dora", maxULP: 0) }

    /// PEFT rounds ΔW to bf16 before adding it for the embedding (Embedding.merge) and for target_parameters
    /// (ParamWrapper.get_delta_weight): rounding once differs from that by at most one bf16 ulp.
    func testBF16RoundOnceWithinOneULP() throws { try check("bf16", maxULP: 1) }
    func testBF16PeftRoundingIsBitExact() throws { try check("bf16", maxULP: 0, rounding: .peft) }

    /// The delta's products go through the engine's kernels, so every path this CPU has must meet the golden.
    private func check(_ name: String, maxULP: Int, rounding: MergeRounding = .once) throws {
        try KernelPaths.each { path in try check(name, maxULP: maxULP, rounding: rounding, path: path) }
    }

    private func check(_ name: String, maxULP: Int, rounding: MergeRounding, path: String) throws {
        let folder = LoRAFixtures.folder(name)
        let info = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/case.json"))) as! [String: Any]
        let base = try Checkpoint(path: LoRAFixtures.base(info["base"] as! String))
        let expected = try Checkpoint(path: folder + "/expected.safetensors")
        let adapters = (info["adapters"] as? [String])?.map { LoRAFixtures.folder($0) + "/adapter" } ?? [folder + "/adapter"]
        let output = try LoRAFixtures.merge(base: base, adapters: adapters, rounding: rounding)
        XCTAssertEqual(Set(output.names), Set(base.names))
        XCTAssertEqual(Set(expected.names), Set(info["changed"] as! [String]))
        var worst = 0
        for tensor in output.names {
            let got = output.info(tensor)!
            if let want = expected.info(tensor) {
                XCTAssertEqual(got.dtype, want.dtype, tensor)
                XCTAssertEqual(got.shape, want.shape, tensor)
                let ulps = LoRAFixtures.ulpDistance(output.bytes(of: tensor)!, expected.bytes(of: tensor)!, base: base.bytes(of: tensor)!, dtype: got.dtype)
                XCTAssertLessThanOrEqual(ulps, maxULP, "\(name), \(path): \(tensor)")
                worst = max(worst, ulps)
            } else {
                XCTAssertEqual(Array(output.bytes(of: tensor)!), Array(base.bytes(of: tensor)!), "\(name): \(tensor) should be untouched")
            }
        }
        print("LoRA golden \(name) (\(rounding.rawValue), \(path)): max \(worst) ulp")
    }
}

enum LoRAFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures/lora").path

    static func folder(_ name: String) -> String { root + "/" + name }

    static func base(_ name: String) -> String { root + "/bases/" + name }

    static func temporaryFolder() -> String {
        let path = NSTemporaryDirectory() + "lora-test-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func merge(base: Checkpoint, adapters: [String], rounding: MergeRounding = .once) throws -> Checkpoint {
        let plan = try MergePlan(checkpoint: base, adapters: adapters.map { MergePlan.AdapterSource(path: $0) })
        let out = temporaryFolder() + "/merged"
        try LoraMergeWriter(base: base, plan: plan, destination: out, dtype: nil, rounding: rounding, force: false).write()
        return try Checkpoint(path: out)
    }

    /// The largest difference between two tensors in units in the last place of the stored type, taken at the
    /// magnitude of the largest of the base, got and wanted values: where the weight and the delta nearly cancel,
    /// rounding the delta first moves the sum by one ulp of the operands, many ulps of the tiny result.
    static func ulpDistance(_ got: UnsafeRawBufferPointer, _ want: UnsafeRawBufferPointer, base: UnsafeRawBufferPointer, dtype: DType) -> Int {
        let x = TensorElements.floats(got, dtype: dtype), y = TensorElements.floats(want, dtype: dtype)
        let b = TensorElements.floats(base, dtype: dtype)
        guard x.count == y.count else { return Int.max }
        let mantissaBits = dtype == .BF16 ? 7 : dtype == .F16 ? 10 : 23
        var worst = 0
        for i in x.indices where x[i].bitPattern != y[i].bitPattern {
            let magnitude = max(abs(x[i]), abs(y[i]), b.count == x.count ? abs(b[i]) : 0)
            let ulp = Float(sign: .plus, exponent: magnitude.exponent - mantissaBits, significand: 1)
            worst = max(worst, Int((abs(x[i] - y[i]) / ulp).rounded(.up)))
        }
        return worst
    }
}
