import CKernels

/// x · Wᵀ for a bf16 weight: x is rounded to bf16 once, then a kernel reads W in place, the columns split across
/// the cores: the AVX512-BF16 kernel where the CPU has it, else moe_gemm on the exactly widened values. Both sum
/// each output in an order fixed by the path alone, never by the row count.
enum BF16GEMM {
    static var native: Bool { moe_kernel_path() == Int32(MOE_KERNEL_AVX512_BF16) }

    /// Columns per worker are a multiple of the kernel's 32-column tile.
    private static let tile = 32

    static func multiply(_ x: [Float], rows: Int, _ w: BF16Matrix, native: Bool = native) -> [Float] {
        multiply(x.withUnsafeBufferPointer { BF16Rows($0.baseAddress!, rows: rows, columns: w.columns) }, w, native: native)
    }

    static func multiply(_ a: BF16Rows, _ w: BF16Matrix, native: Bool = native) -> [Float] {
        [Float](unsafeUninitializedCapacity: a.rows * w.rows) { y, done in
            if let out = y.baseAddress { multiply(a, w, into: out, ldc: w.rows, native: native) }
            done = a.rows * w.rows
        }
    }

    /// y[r * ldc + j] = Σ x[r, :] · W[j, :] for r < rows, j < W.rows.
    static func multiply(
        _ x: UnsafePointer<Float>, rows: Int, _ w: BF16Matrix, into y: UnsafeMutablePointer<Float>, ldc: Int, native: Bool = native
    ) {
        multiply(BF16Rows(x, rows: rows, columns: w.columns), w, into: y, ldc: ldc, native: native)
    }

    static func multiply(_ a: BF16Rows, _ w: BF16Matrix, into y: UnsafeMutablePointer<Float>, ldc: Int, native: Bool = native) {
        let k = w.columns, n = w.rows, rows = a.rows
        precondition(a.columns == k, "activations and weight disagree on the inner dimension")
        guard rows > 0, n > 0 else { return }
        a.values.withUnsafeBufferPointer { ap in
            if native {
                let source = SharedReadPointer(base: ap.baseAddress!), target = SharedPointer(base: y)
                let weight = w, lda = a.stride
                let tiles = (n + tile - 1) / tile
                Parallel.ranges(tiles, minimum: max(1, 4_194_304 / max(1, rows * k * tile))) { part in
                    moe_bf16_gemm(
                        source.base, lda, rows, k, weight.base, weight.stride, weight.inputMajor ? 1 : 0, part.lowerBound * tile,
                        min(n, part.upperBound * tile), target.base, ldc, 0)
                }
            } else {
                Kernels.orderedProduct(
                    moe_operand(base: ap.baseAddress, stride: a.stride, bf16: 1, input_major: 0), rows: rows, inner: k,
                    moe_operand(base: w.base, stride: w.stride, bf16: 1, input_major: w.inputMajor ? 1 : 0), columns: n, into: y, ldc: ldc)
            }
        }
    }
}

/// Activations rounded to bf16 once, so weights that read the same rows (an MLP's gate and up) share the work.
/// Rows are padded to an even stride because the kernel reads k-values in pairs.
struct BF16Rows {
    let values: [UInt16]
    let rows: Int
    let columns: Int
    let stride: Int

    init(_ x: UnsafePointer<Float>, rows: Int, columns k: Int) {
        let stride = (k + 1) & ~1
        self.rows = rows
        self.columns = k
        self.stride = stride
        values = [UInt16](unsafeUninitializedCapacity: rows * stride) { out, done in
            if let base = out.baseAddress {
                let source = SharedReadPointer(base: x), target = SharedPointer(base: base)
                Parallel.ranges(rows, minimum: max(1, 32_768 / max(k, 1))) { range in
                    for r in range {
                        moe_f32_to_bf16(source.base + r * k, target.base + r * stride, k)
                        if stride > k { target.base[r * stride + k] = 0 }
                    }
                }
            }
            done = rows * stride
        }
    }
}
