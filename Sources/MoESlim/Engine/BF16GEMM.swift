import CKernels
import COpenBLAS

/// x · Wᵀ for a bf16 weight: x is rounded to bf16 once, then the AVX512-BF16 kernel reads W in place, the
/// columns split across the cores. CPUs without bf16 units get the same products from sgemm on the
/// bf16-rounded x and widened W, so results do not depend on the machine beyond summation order.
enum BF16GEMM {
    static let native = moe_bf16_gemm_supported() != 0

    /// Columns per worker are a multiple of the kernel's 32-column tile.
    private static let tile = 32

    static func multiply(_ x: [Float], rows: Int, _ w: BF16Matrix, native: Bool = native) -> [Float] {
        [Float](unsafeUninitializedCapacity: rows * w.rows) { y, done in
            x.withUnsafeBufferPointer { xp in
                if let base = xp.baseAddress, let out = y.baseAddress {
                    multiply(base, rows: rows, w, into: out, ldc: w.rows, native: native)
                }
            }
            done = rows * w.rows
        }
    }

    /// y[r * ldc + j] = Σ x[r, :] · W[j, :] for r < rows, j < W.rows.
    static func multiply(
        _ x: UnsafePointer<Float>, rows: Int, _ w: BF16Matrix, into y: UnsafeMutablePointer<Float>, ldc: Int, native: Bool = native
    ) {
        let k = w.columns, n = w.rows
        guard rows > 0, n > 0 else { return }
        let lda = (k + 1) & ~1
        var a = [UInt16](repeating: 0, count: rows * lda)
        a.withUnsafeMutableBufferPointer { ap in
            let source = SharedReadPointer(base: x), target = SharedPointer(base: ap.baseAddress!)
            Parallel.ranges(rows, minimum: max(1, 32_768 / max(k, 1))) { range in
                for r in range { moe_f32_to_bf16(source.base + r * k, target.base + r * lda, k) }
            }
        }
        a.withUnsafeBufferPointer { ap in
            if native {
                let source = SharedReadPointer(base: ap.baseAddress!), target = SharedPointer(base: y)
                let weight = w
                let tiles = (n + tile - 1) / tile
                Parallel.ranges(tiles, minimum: max(1, 4_194_304 / max(1, rows * k * tile))) { part in
                    moe_bf16_gemm(
                        source.base, lda, rows, k, weight.base, k, part.lowerBound * tile, min(n, part.upperBound * tile),
                        target.base, ldc, 0)
                }
            } else {
                emulated(ap.baseAddress!, lda: lda, rows: rows, w, into: y, ldc: ldc)
            }
        }
    }

    private static func emulated(_ a: UnsafePointer<UInt16>, lda: Int, rows: Int, _ w: BF16Matrix, into y: UnsafeMutablePointer<Float>, ldc: Int) {
        let k = w.columns, n = w.rows
        var xf = [Float](repeating: 0, count: rows * k)
        for r in 0..<rows {
            for c in 0..<k { xf[r * k + c] = Float(bitPattern: UInt32(a[r * lda + c]) << 16) }
        }
        var wf = [Float](repeating: 0, count: n * k)
        for i in 0..<(n * k) { wf[i] = Float(bitPattern: UInt32(w.base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16) }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(n), Int32(k), 1, xf, Int32(k), wf, Int32(k), 0, y, Int32(ldc))
    }
}
