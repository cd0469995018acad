import CKernels
import COpenBLAS
import Foundation

/// Scaled dot-product causal attention over a batch of sequences, as transformers' eager path computes it:
/// masked logits, optional sink logit in the softmax denominator, f32 throughout. Each (sequence, head) is one
/// work item on one core, and queries go in blocks that multiply only the keys they can see, so about half of
/// the square score matrix is never computed.
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

    /// Queries per block: the scores of one block (rows × visible keys) stay small whatever the sequence length.
    private static let queryBlock = 128

    /// q [T, heads·qk], k [T, kvHeads·qk], v [T, kvHeads·v] → [T, heads·v].
    func callAsFunction(q: [Float], k: [Float], v: [Float], batch: TokenBatch) -> [Float] {
        _ = Kernels.ownThreads
        var out = [Float](repeating: 0, count: batch.count * numHeads * valueDim)
        let items = batch.lengths.indices.filter { batch.lengths[$0] > 0 }.flatMap { s in (0..<numHeads).map { (s, $0) } }
        q.withUnsafeBufferPointer { qp in
            k.withUnsafeBufferPointer { kp in
                v.withUnsafeBufferPointer { vp in
                    out.withUnsafeMutableBufferPointer { op in
                        let q = SharedReadPointer(base: qp.baseAddress!), k = SharedReadPointer(base: kp.baseAddress!)
                        let v = SharedReadPointer(base: vp.baseAddress!), o = SharedPointer(base: op.baseAddress!)
                        let longest = batch.lengths.max() ?? 0
                        Parallel.ranges(items.count, minimum: 1) { range in
                            var scores = [Float](repeating: 0, count: Self.queryBlock * longest)
                            scores.withUnsafeMutableBufferPointer { sp in
                                for (s, h) in items[range] {
                                    head(h, start: batch.starts[s], n: batch.lengths[s], q: q.base, k: k.base, v: v.base, out: o.base, scores: sp.baseAddress!)
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    private func head(
        _ h: Int, start: Int, n: Int, q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
        out: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>
    ) {
        let qStride = numHeads * queryKeyDim, kStride = numKeyValueHeads * queryKeyDim
        let vStride = numKeyValueHeads * valueDim, oStride = numHeads * valueDim
        let kvHead = h / (numHeads / numKeyValueHeads)
        for first in stride(from: 0, to: n, by: Self.queryBlock) {
            let rows = min(Self.queryBlock, n - first), keys = first + rows
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(keys), Int32(queryKeyDim), scaling,
                q + (start + first) * qStride + h * queryKeyDim, Int32(qStride),
                k + start * kStride + kvHead * queryKeyDim, Int32(kStride), 0, scores, Int32(keys))
            for r in 0..<rows {
                let i = first + r
                let visible = max(window.map { max(0, i - $0 + 1) } ?? 0, chunk.map { i / $0 * $0 } ?? 0)
                moe_softmax_span(scores + r * keys, keys, visible, i, sinks?[h] ?? 0, sinks == nil ? 0 : 1)
            }
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(valueDim), Int32(keys), 1,
                scores, Int32(keys), v + start * vStride + kvHead * valueDim, Int32(vStride),
                0, out + (start + first) * oStride + h * valueDim, Int32(oStride))
        }
    }
}
