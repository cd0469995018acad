import MoESlimSupport
import MoESlimFormats
import MoESlimEngine

/// AIMER's sums over ggml quantized blocks, each value dequantized as ggml's reference code does
/// (ggml-quants.c `dequantize_row_q8_0`, `_q4_0`, `_q4_1`, `_q5_0`, `_q5_1`, `_q2_K`, `_q3_K`, `_q4_K`,
/// `_q5_K`, `_q6_K`, `_mxfp4`; gguf-py's `quants.dequantize`
/// computes the same f32 values): fp16 scales times integer quants, in f32. Only these types are read;
/// `supported` names them and the GGUF reader refuses the rest.
enum GGMLBlockSums {
    private enum Kind { case q8_0, q4_0, q4_1, q5_0, q5_1, q2K, q3K, q4K, q5K, q6K, mxfp4 }

    private static let kinds: [(name: String, kind: Kind)] = [
        ("Q8_0", .q8_0), ("Q4_0", .q4_0), ("Q4_1", .q4_1), ("Q5_0", .q5_0), ("Q5_1", .q5_1),
        ("Q2_K", .q2K), ("Q3_K", .q3K), ("Q4_K", .q4K), ("Q5_K", .q5K), ("Q6_K", .q6K), ("MXFP4", .mxfp4),
    ]

    /// E2M1 codes doubled (ggml's `kvalues_mxfp4`); the E8M0 scale is halved to match.
    private static let mxfp4Values: [Float] = [0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12]

    static let supported = kinds.map(\.name)

    static func isSupported(_ type: GGMLType) -> Bool { kind(type) != nil }

    private static func kind(_ type: GGMLType) -> Kind? { kinds.first { $0.name.sameBytes(as: type.name) }?.kind }

    /// Blocks summed in fixed runs of 65,536 values spread over the cores and added in run order, so the score
    /// does not depend on the thread count. `bytes` is whole blocks of a supported type.
    static func sums(_ bytes: UnsafeRawBufferPointer, type: GGMLType) -> AimerScores.Sums {
        guard let kind = kind(type) else { return AimerScores.Sums() }
        let size = type.bytesPerBlock, values = type.blockSize
        let blocks = bytes.count / size, run = (1 << 16) / values
        let runs = (blocks + run - 1) / run
        var partial = [AimerScores.Sums](repeating: AimerScores.Sums(), count: runs)
        partial.withUnsafeMutableBufferPointer { out in
            guard let target = out.baseAddress.map(SharedPointer.init), let base = bytes.baseAddress else { return }
            let source = SharedRawPointer(base: base)
            Parallel.ranges(runs, minimum: 1) { range in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: values) { y in
                    for r in range {
                        var absolute = 0.0, squares = 0.0
                        let end = min(blocks, (r + 1) * run)
                        for b in (r * run)..<end {
                            decode(kind, source.base + b * size, into: y.baseAddress!)
                            for v in y {
                                let d = Double(v)
                                absolute += abs(d)
                                squares += d * d
                            }
                        }
                        target.base[r] = AimerScores.Sums(absolute: absolute, squares: squares, count: (end - r * run) * values)
                    }
                }
            }
        }
        return partial.reduce(into: AimerScores.Sums()) { $0.add($1) }
    }

    private static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
    }

    /// K-quant sub-block j's 6-bit scale and min, packed in 12 bytes (ggml's `get_scale_min_k4`).
    private static func scaleMin(_ j: Int, _ q: UnsafeRawPointer) -> (Float, Float) {
        let b = { (i: Int) in q.load(fromByteOffset: i, as: UInt8.self) }
        if j < 4 { return (Float(b(j) & 63), Float(b(j + 4) & 63)) }
        return (Float((b(j + 4) & 0x0F) | ((b(j - 4) >> 6) << 4)), Float((b(j + 4) >> 4) | ((b(j) >> 6) << 4)))
    }

    /// One block's values, in ggml's order.
    private static func decode(_ kind: Kind, _ x: UnsafeRawPointer, into y: UnsafeMutablePointer<Float>) {
        let byte = { (i: Int) in x.load(fromByteOffset: i, as: UInt8.self) }
        switch kind {
        case .q8_0:
            // d, then 32 int8 quants.
            let d = half(x, 0)
            for j in 0..<32 { y[j] = Float(Int8(bitPattern: byte(2 + j))) * d }
        case .q4_0:
            // d, then 16 bytes: low nibbles are values 0..<16, high nibbles 16..<32, each minus 8.
            let d = half(x, 0)
            for j in 0..<16 {
                y[j] = Float(Int(byte(2 + j) & 0x0F) - 8) * d
                y[j + 16] = Float(Int(byte(2 + j) >> 4) - 8) * d
            }
        case .q4_1:
            // d, m, then nibbles as Q4_0's, unsigned: q·d + m.
            let d = half(x, 0), m = half(x, 2)
            for j in 0..<16 {
                y[j] = Float(byte(4 + j) & 0x0F) * d + m
                y[j + 16] = Float(byte(4 + j) >> 4) * d + m
            }
        case .q5_0, .q5_1:
            // d (and m), 32 fifth bits (value i's is bit i), nibbles as Q4_0's; Q5_0 subtracts 16, Q5_1 adds m.
            let d = half(x, 0), m = kind == .q5_1 ? half(x, 2) : 0
            let at = kind == .q5_1 ? 4 : 2
            let qh = UInt32(littleEndian: x.loadUnaligned(fromByteOffset: at, as: UInt32.self))
            let offset = kind == .q5_0 ? 16 : 0
            for j in 0..<16 {
                let q = byte(at + 4 + j)
                let low = Int(q & 0x0F) | Int((qh >> UInt32(j)) & 1) << 4
                let top = Int(q >> 4) | Int((qh >> UInt32(j + 16)) & 1) << 4
                y[j] = Float(low - offset) * d + m
                y[j + 16] = Float(top - offset) * d + m
            }
        case .q2K:
            // 16 bytes of 4-bit scale and min, 64 bytes of 2-bit quants, d, dmin; sub-block s of 16 values uses
            // scales[s]; the quants of each half of 128 come from 32 bytes at shifts 0, 2, 4, 6.
            let d = half(x, 80), dmin = half(x, 82)
            for n in 0..<2 {
                for shift in 0..<4 {
                    for g in 0..<2 {
                        let s = 8 * n + 2 * shift + g, sc = byte(s)
                        let dl = d * Float(sc & 0x0F), ml = dmin * Float(sc >> 4)
                        for l in 0..<16 {
                            y[16 * s + l] = dl * Float((byte(16 + 32 * n + 16 * g + l) >> UInt8(2 * shift)) & 3) - ml
                        }
                    }
                }
            }
        case .q3K:
            // 32 bytes of high-bit mask, 64 of 2-bit quants, 12 of 6-bit scales, d; sub-block s of 16 values:
            // scale (low nibble of byte s mod 8, high for s ≥ 8, two more bits from byte 8 + s mod 4) − 32, quant
            // minus 4 where its mask bit is clear, laid out as Q2_K's.
            let d = half(x, 108)
            for n in 0..<2 {
                for shift in 0..<4 {
                    for g in 0..<2 {
                        let s = 8 * n + 2 * shift + g
                        let low = s < 8 ? byte(96 + s) & 0x0F : byte(96 + s - 8) >> 4
                        let top = (byte(104 + s % 4) >> UInt8(2 * (s / 4))) & 3
                        let dl = d * Float(Int(low | (top << 4)) - 32)
                        let bit = UInt8(4 * n + shift)
                        for l in 0..<16 {
                            let q = Int((byte(32 + 32 * n + 16 * g + l) >> UInt8(2 * shift)) & 3)
                            let masked = (byte(16 * g + l) >> bit) & 1 == 0
                            y[16 * s + l] = dl * Float(q - (masked ? 4 : 0))
                        }
                    }
                }
            }
        case .mxfp4:
            // E8M0 exponent e, then nibbles as Q4_0's: doubled E2M1 values times 2^(e − 128).
            let d = Float(sign: .plus, exponent: Int(byte(0)) - 128, significand: 1)
            for j in 0..<16 {
                y[j] = mxfp4Values[Int(byte(1 + j) & 0x0F)] * d
                y[j + 16] = mxfp4Values[Int(byte(1 + j) >> 4)] * d
            }
        case .q4K, .q5K:
            // d, dmin, 12 bytes of scales and mins, (Q5_K: 32 bytes of fifth bits), 128 bytes of nibbles; four
            // runs of 64 values, the low nibbles with sub-block 2i's scale, the high with 2i + 1's.
            let d = half(x, 0), dmin = half(x, 2)
            let scales = x + 4, high = x + 16, qs = x + (kind == .q5K ? 48 : 16)
            for i in 0..<4 {
                let (sc1, m1) = scaleMin(2 * i, scales), (sc2, m2) = scaleMin(2 * i + 1, scales)
                let d1 = d * sc1, dm1 = dmin * m1, d2 = d * sc2, dm2 = dmin * m2
                for l in 0..<32 {
                    let q = qs.load(fromByteOffset: 32 * i + l, as: UInt8.self)
                    var low = q & 0x0F, top = q >> 4
                    if kind == .q5K {
                        let h = high.load(fromByteOffset: l, as: UInt8.self)
                        low |= ((h >> (2 * i)) & 1) << 4
                        top |= ((h >> (2 * i + 1)) & 1) << 4
                    }
                    y[64 * i + l] = d1 * Float(low) - dm1
                    y[64 * i + 32 + l] = d2 * Float(top) - dm2
                }
            }
        case .q6K:
            // 128 bytes of low nibbles, 64 of 2-bit highs, 16 int8 scales, d; two halves of 128 values.
            let d = half(x, 208)
            for n in 0..<2 {
                let ql = 64 * n, qh = 128 + 32 * n, sc = 192 + 8 * n
                for l in 0..<32 {
                    let s = l / 16, h = byte(qh + l)
                    let q1 = Int((byte(ql + l) & 0x0F) | ((h & 3) << 4)) - 32
                    let q2 = Int((byte(ql + l + 32) & 0x0F) | (((h >> 2) & 3) << 4)) - 32
                    let q3 = Int((byte(ql + l) >> 4) | (((h >> 4) & 3) << 4)) - 32
                    let q4 = Int((byte(ql + l + 32) >> 4) | (((h >> 6) & 3) << 4)) - 32
                    let scale = { (i: Int) in d * Float(Int8(bitPattern: byte(sc + s + i))) }
                    y[128 * n + l] = scale(0) * Float(q1)
                    y[128 * n + l + 32] = scale(2) * Float(q2)
                    y[128 * n + l + 64] = scale(4) * Float(q3)
                    y[128 * n + l + 96] = scale(6) * Float(q4)
                }
            }
        }
    }
}
