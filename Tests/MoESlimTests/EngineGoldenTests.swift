import XCTest
@testable import MoESlimFormats
@testable import MoESlimEngine
@testable import MoESlimSlimming

/// The forward pass against transformers (fixtures/gen_engine.py) on a tiny random model of every supported
/// family: the same experts for every token, router scores and hidden states after the last MoE layer within
/// 1e-4, and the counts the generator summed from transformers' outputs.
final class EngineGoldenTests: XCTestCase {
    /// Every registered model type with a forward pass, on its engine fixture as transformers saved it.
    func testEveryFamilyWithAForwardPass() {
        forEachGolden(RegisteredFamilies.forwardPassTypes) { try check($0) }
    }

    /// Storage variants of registered families: bf16 and f16 weights, FP8 and MXFP4 quantized experts, and
    /// Qwen3.5-MoE's experts fused and Qwen3-VL-MoE's input-major, as their releases store them.
    func testMixtralBF16() throws { try check("mixtral-bf16") }
    func testOlmoeF16() throws { try check("olmoe-f16") }
    func testHunYuanMoeV1BF16() throws { try check("hunyuan_v1_moe-bf16") }
    func testAfmoeBF16() throws { try check("afmoe-bf16") }
    func testLfm2MoeBF16() throws { try check("lfm2_moe-bf16") }
    func testGemma4TextBF16() throws { try check("gemma4_text-bf16") }
    func testDeepseekV3FP8() throws { try check("deepseek_v3-fp8") }
    func testGptOssMXFP4() throws { try check("gpt_oss-mxfp4") }
    func testQwen35MoeFusedExperts() throws { try check("qwen3_5_moe-fused") }
    func testQwen3VlMoeInputMajorExperts() throws { try check("qwen3_vl_moe-inputmajor") }

    /// Every kernel path this CPU has must meet transformers' numbers.
    private func check(_ name: String) throws {
        try KernelPaths.each { _ in try checkOnePath(name) }
    }

    private func checkOnePath(_ name: String) throws {
        let golden = try EngineGolden.load(name)
        // The goldens are transformers in float32 on widened weights, which is f32 compute.
        let pass = try ForwardPass(checkpoint: Checkpoint(path: EngineGolden.folder(name)), compute: .f32)
        var counts = ExpertCounts(model: pass.model)
        for (s, sequence) in golden.sequences.enumerated() {
            var records: [RoutingRecord] = []
            let hidden = try pass.run([sequence.inputIds]) { records.append($0) }
            for record in records { counts.add(record) }
            XCTAssertEqual(records.map(\.layer), sequence.layers.map(\.layer), "\(name): MoE layers")
            for (record, expected) in zip(records, sequence.layers) {
                let e = record.experts, k = record.topK
                for t in 0..<record.tokens {
                    let ours = Set(record.selected[t * k..<(t + 1) * k].map(Int.init))
                    XCTAssertEqual(ours, Set(expected.indices[t]), "\(name) seq \(s) layer \(record.layer) token \(t): selected experts")
                    assertClose(Array(record.logits[t * e..<(t + 1) * e]), expected.logits[t], "\(name) seq \(s) layer \(record.layer) token \(t) logits")
                    let weightByExpert = Dictionary(uniqueKeysWithValues: zip(expected.indices[t], expected.weights[t]))
                    for slot in 0..<k {
                        let expert = Int(record.selected[t * k + slot])
                        guard let w = weightByExpert[expert] else { continue }
                        assertClose([record.weights[t * k + slot]], [w], "\(name) token \(t) weight of expert \(expert)")
                        assertClose([record.outputNorms[t * k + slot]], [expected.expertNorms[t][expert]], "\(name) token \(t) output norm of expert \(expert)")
                    }
                }
            }
            assertClose(hidden, sequence.hidden.flatMap { $0 }, "\(name) seq \(s) hidden states after the last MoE layer")
        }
        XCTAssertEqual(counts.layers.count, golden.counts.count)
        for (ours, expected) in zip(counts.layers, golden.counts) {
            XCTAssertEqual(ours.layer, expected.layer)
            XCTAssertEqual(ours.tokens, expected.tokens)
            XCTAssertEqual(ours.hard, expected.hard, "\(name) layer \(ours.layer) hard counts")
            assertRelative(ours.soft, expected.soft, "\(name) layer \(ours.layer) soft")
            assertRelative(ours.softSoftmax, expected.softSoftmax, "\(name) layer \(ours.layer) soft_softmax")
            assertRelative(ours.saliency, expected.saliency, "\(name) layer \(ours.layer) saliency")
            assertRelative([ours.entropySum], [expected.entropySum], "\(name) layer \(ours.layer) entropy")
        }
    }

    /// Within 1e-4 of the golden value, relative to the larger of 1 and the largest golden magnitude.
    private func assertClose(_ ours: [Float], _ expected: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(ours.count, expected.count, what, file: file, line: line)
        let scale = max(1, expected.map(abs).max() ?? 0)
        let worst = zip(ours, expected).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 1e-4 * scale, what, file: file, line: line)
    }

    private func assertRelative(_ ours: [Double], _ expected: [Double], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(ours.count, expected.count, what, file: file, line: line)
        for (a, b) in zip(ours, expected) {
            XCTAssertLessThanOrEqual(abs(a - b), 1e-4 * max(abs(b), 1e-6), "\(what): \(a) vs \(b)", file: file, line: line)
        }
    }
}
