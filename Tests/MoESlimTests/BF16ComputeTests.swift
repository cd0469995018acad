import CKernels
import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimEngine

/// bf16 compute against independent references: torch's own f32 → bf16 rounding, OpenBLAS sgemm on the
/// bf16-rounded operands for the AVX512-BF16 kernel, and transformers' float32 forward for the whole pass.
final class BF16ComputeTests: XCTestCase {
    func testRoundingMatchesTorch() throws {
        let golden = try Fixtures.json(EngineGolden.folder("bf16-rounding.json"))
        let inputs = try XCTUnwrap(golden["f32_bits"] as? [Int]).map { Float(bitPattern: UInt32($0)) }
        let expected = try XCTUnwrap(golden["bf16_bits"] as? [Int]).map(UInt16.init)
        var ours = [UInt16](repeating: 0, count: inputs.count)
        moe_f32_to_bf16(inputs, &ours, inputs.count)
        for (i, (a, b)) in zip(ours, expected).enumerated() {
            XCTAssertEqual(a, b, "f32 bits \(String(inputs[i].bitPattern, radix: 16))")
        }
    }

    /// Shapes with every kind of edge: rows not a multiple of the 12-row tile, columns of the 32-column tile or
    /// of a worker's block, odd k, k across several 512-wide blocks, and a weight at an odd address.
    func testKernelEqualsSgemmOnRoundedOperands() throws {
        try XCTSkipUnless(BF16GEMM.native, "this CPU has no AVX512-BF16")
        for (rows, out, k) in [(1, 1, 1), (13, 33, 7), (37, 77, 33), (24, 300, 1023), (5, 1030, 1536), (100, 64, 2)] {
            var generator = SplitMix(seed: UInt64(rows * 7919 + out * 31 + k))
            let x = (0..<(rows * k)).map { _ in generator.uniform() - 0.5 }
            let stored = Self.unalignedBF16(count: out * k, &generator)
            stored.withUnsafeBytes { raw in
                let w = BF16Matrix(base: raw.baseAddress! + 1, rows: out, columns: k)
                let native = BF16GEMM.multiply(x, rows: rows, w, native: true)
                let reference = BF16GEMM.multiply(x, rows: rows, w, native: false)
                let worst = zip(native, reference).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThanOrEqual(worst, 1e-6 * Float(k), "\(rows)×\(out)×\(k)")
                let sliced = BF16GEMM.multiply(x, rows: rows, w.rows(out / 2..<out), native: true)
                XCTAssertEqual(sliced.count, rows * (out - out / 2))
                for r in 0..<rows {
                    let got = Array(sliced[(r * (out - out / 2))..<((r + 1) * (out - out / 2))])
                    XCTAssertEqual(got, Array(native[(r * out + out / 2)..<((r + 1) * out)]), "row slice \(rows)×\(out)×\(k)")
                }
            }
        }
    }

    /// Input-major weights ([in, out], gpt-oss and Llama 4 experts) through their own packing, against sgemm.
    func testInputMajorKernelEqualsSgemm() throws {
        try XCTSkipUnless(BF16GEMM.native, "this CPU has no AVX512-BF16")
        for (rows, out, k) in [(1, 1, 1), (13, 77, 33), (30, 300, 1023), (5, 64, 2), (17, 1030, 1536)] {
            var generator = SplitMix(seed: UInt64(rows * 31 + out * 7 + k))
            let x = (0..<(rows * k)).map { _ in generator.uniform() - 0.5 }
            let stride = out + 3
            let stored = Self.unalignedBF16(count: stride * k, &generator)
            stored.withUnsafeBytes { raw in
                let w = BF16Matrix(base: raw.baseAddress! + 1, rows: out, columns: k, stride: stride, inputMajor: true)
                let native = BF16GEMM.multiply(x, rows: rows, w, native: true)
                let reference = BF16GEMM.multiply(x, rows: rows, w, native: false)
                let worst = zip(native, reference).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThanOrEqual(worst, 1e-6 * Float(k), "input-major \(rows)×\(out)×\(k)")
            }
        }
    }

    /// MXFP4 experts dequantize to bf16 exactly, so gpt-oss under bf16 compute differs from transformers'
    /// float32 run only by the rounding of activations.
    func testMXFP4ExpertsUnderBF16Compute() throws {
        let golden = try EngineGolden.load("gpt_oss-mxfp4")
        let checkpoint = try Checkpoint(path: EngineGolden.folder("gpt_oss-mxfp4"))
        let reader = WeightReader(checkpoint: checkpoint, compute: .bf16)
        let name = try XCTUnwrap(checkpoint.names.first { $0.hasSuffix("gate_up_proj_blocks") }).dropLast("_blocks".count)
        let (widened, _) = try reader.loadMXFP4(String(name))
        let (storage, _) = try reader.loadMXFP4BF16(String(name))
        XCTAssertEqual(widened, storage.values.map { Float(bitPattern: UInt32($0) << 16) })
        let pass = try ForwardPass(checkpoint: checkpoint, compute: .bf16)
        for sequence in golden.sequences {
            let hidden = try pass.run([sequence.inputIds]) { _ throws(MoESlimError) in }
            let expected = sequence.hidden.flatMap { $0 }
            let scale = max(1, expected.map(abs).max() ?? 0)
            XCTAssertLessThanOrEqual(zip(hidden, expected).map { abs($0 - $1) }.max() ?? 0, 2e-2 * scale)
        }
    }

    /// The families whose mixers have pieces of their own (Hunyuan's q/k norms after the rotation, AFMoE's output
    /// gate projection and sandwich norms, LFM2's short convolution, Gemma 4's per-layer head widths, keys as
    /// values and dense MLP beside the experts) under bf16 compute on their bf16 fixtures:
    /// near transformers' float32 run, on the bf16 path.
    func testGatedSandwichedAndConvolutionMixersUnderBF16Compute() throws {
        for name in ["hunyuan_v1_moe-bf16", "afmoe-bf16", "lfm2_moe-bf16", "gemma4_text-bf16"] {
            let golden = try EngineGolden.load(name)
            let pass = try ForwardPass(checkpoint: Checkpoint(path: EngineGolden.folder(name)), compute: .bf16)
            for sequence in golden.sequences {
                let hidden = try pass.run([sequence.inputIds]) { _ throws(MoESlimError) in }
                let expected = sequence.hidden.flatMap { $0 }
                let scale = max(1, expected.map(abs).max() ?? 0)
                let worst = zip(hidden, expected).map { abs($0 - $1) }.max() ?? 0
                XCTAssertLessThanOrEqual(worst, 2e-2 * scale, "\(name): bf16 rounding of activations only")
                XCTAssertGreaterThan(worst, 0, "\(name): bf16-stored weights must take the bf16 path")
            }
        }
    }

    /// Random bf16 values from byte 1 on, so the kernel reads them at an odd address as it may in a checkpoint.
    private static func unalignedBF16(count: Int, _ generator: inout SplitMix) -> [UInt8] {
        var stored = [UInt8](repeating: 0, count: 1 + 2 * count)
        for i in 0..<count {
            let bits = (generator.uniform() - 0.5).bitPattern >> 16
            stored[1 + 2 * i] = UInt8(bits & 0xFF)
            stored[2 + 2 * i] = UInt8(bits >> 8)
        }
        return stored
    }

    /// bf16 compute on a bf16 model stays near transformers' float32 run; on an f32 model it changes nothing.
    func testForwardPassAgainstFloat32Golden() throws {
        let golden = try EngineGolden.load("mixtral-bf16")
        let pass = try ForwardPass(checkpoint: Checkpoint(path: EngineGolden.folder("mixtral-bf16")), compute: .bf16)
        for sequence in golden.sequences {
            let hidden = try pass.run([sequence.inputIds]) { _ throws(MoESlimError) in }
            let expected = sequence.hidden.flatMap { $0 }
            let scale = max(1, expected.map(abs).max() ?? 0)
            let worst = zip(hidden, expected).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, 2e-2 * scale, "bf16 rounding of activations only")
            XCTAssertGreaterThan(worst, 0, "bf16-stored weights must take the bf16 path")
        }
        let f32Model = try Checkpoint(path: EngineGolden.folder("mixtral"))
        let sequence = golden.sequences[0].inputIds
        let a = try ForwardPass(checkpoint: f32Model, compute: .bf16).logits([sequence])
        let b = try ForwardPass(checkpoint: f32Model, compute: .f32).logits([sequence])
        XCTAssertEqual(a, b)
    }
}

/// A small deterministic generator so kernel shapes get the same data on every run.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func uniform() -> Float {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Float(z >> 40) / Float(1 << 24)
    }
}
