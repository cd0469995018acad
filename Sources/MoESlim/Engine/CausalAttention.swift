import CKernels
import COpenBLAS
import Foundation

/// Scaled dot-product causal attention over a batch of sequences, per head with sgemm, as transformers' eager
/// path computes it: masked logits, optional sink logit in the softmax denominator, f32 throughout.
struct CausalAttention {
    var numHeads: Int
    var numKeyValueHeads: Int
    var queryKeyDim: Int
    var valueDim: Int
    var scaling: Float
    /// Key j is visible from query i when i - j < window.
    var window: Int?
    /// Key j is visible from query i only inside i's block of `chunk` positions.
    var chunk: Int? = nil
    var sinks: [Float]?

    /// q [T, heads·qk], k [T, kvHeads·qk], v [T, kvHeads·v] → [T, heads·v]. Score matrices of several heads
    /// are built together so their softmax rows can be spread over the cores.
    func callAsFunction(q: [Float], k: [Float], v: [Float], batch: TokenBatch) -> [Float] {
        let qStride = numHeads * queryKeyDim
        let kStride = numKeyValueHeads * queryKeyDim
        let vStride = numKeyValueHeads * valueDim
        let oStride = numHeads * valueDim
        let group = numHeads / numKeyValueHeads
        var out = [Float](repeating: 0, count: batch.count * oStride)
        let longest = batch.lengths.max() ?? 0
        let block = max(1, min(numHeads, Self.scoreBudget / max(1, longest * longest)))
        var scores = [Float](repeating: 0, count: block * longest * longest)
        q.withUnsafeBufferPointer { qp in
            k.withUnsafeBufferPointer { kp in
                v.withUnsafeBufferPointer { vp in
                    out.withUnsafeMutableBufferPointer { op in
                        scores.withUnsafeMutableBufferPointer { sp in
                            for (start, n) in zip(batch.starts, batch.lengths) where n > 0 {
                                for first in stride(from: 0, to: numHeads, by: block) {
                                    let heads = first..<min(numHeads, first + block)
                                    for h in heads {
                                        cblas_sgemm(
                                            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(n), Int32(queryKeyDim), scaling,
                                            qp.baseAddress! + start * qStride + h * queryKeyDim, Int32(qStride),
                                            kp.baseAddress! + start * kStride + (h / group) * queryKeyDim, Int32(kStride),
                                            0, sp.baseAddress! + (h - first) * n * n, Int32(n))
                                    }
                                    normalize(SharedPointer(base: sp.baseAddress!), heads: heads, n: n)
                                    for h in heads {
                                        cblas_sgemm(
                                            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(valueDim), Int32(n), 1,
                                            sp.baseAddress! + (h - first) * n * n, Int32(n),
                                            vp.baseAddress! + start * vStride + (h / group) * valueDim, Int32(vStride),
                                            0, op.baseAddress! + start * oStride + h * valueDim, Int32(oStride))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    /// Floats of score matrices held at once (64 MB).
    private static let scoreBudget = 16 << 20

    private func normalize(_ scores: SharedPointer<Float>, heads: Range<Int>, n: Int) {
        let first = heads.lowerBound
        let sinks = self.sinks
        let window = self.window, chunk = self.chunk
        Parallel.ranges(heads.count * n, minimum: 64) { rows in
            for r in rows {
                let h = first + r / n, i = r % n
                let visible = max(window.map { max(0, i - $0 + 1) } ?? 0, chunk.map { i / $0 * $0 } ?? 0)
                Self.normalizeRow(scores.base + r * n, i: i, n: n, sink: sinks?[h], first: visible)
            }
        }
    }

    /// Softmax of score row i over keys first...i; masked entries become exact zeros.
    private static func normalizeRow(_ row: UnsafeMutablePointer<Float>, i: Int, n: Int, sink: Float?, first: Int) {
        var m = sink ?? -Float.infinity
        for j in first...i { m = max(m, row[j]) }
        let sum = moe_exp_sum(row + first, i - first + 1, m) + (sink.map { exp($0 - m) } ?? 0)
        for j in 0..<n { row[j] = (j >= first && j <= i) ? row[j] / sum : 0 }
    }
}
