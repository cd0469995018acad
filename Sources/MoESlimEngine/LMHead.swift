import Foundation
import MoESlimSupport

/// The output projection, written straight into each sequence's logits. A bf16 head is read in place; any other
/// is widened a slice of the vocabulary at a time, since widening a 150k-row head to f32 at once would take
/// gigabytes that nothing else in the pass needs. Tied models pass the embedding as `name`.
struct LMHead {
    let weights: WeightReader
    let name: String
    /// Used when the checkpoint stores it.
    let bias: String
    let hidden: Int
    let divisor: Float
    /// cap · tanh(logit / cap) after the division, when set (EngineSpec.logitSoftcap).
    var softcap: Float? = nil

    /// `h` is the final-normed [tokens, hidden] of the whole batch; returns each sequence's [tokens, vocab].
    func callAsFunction(_ h: [Float], batch: TokenBatch, vocabSlice: Int) throws(MoESlimError) -> [[Float]] {
        let shape = try weights.shape(name)
        guard shape.count == 2, shape[1] == hidden else {
            throw MoESlimError(.invalidTensor, "expected [vocab, \(hidden)], found \(shape)", path: weights.checkpoint.path, tensor: name)
        }
        let vocab = shape[0]
        let bias = try weights.loadIfPresent(bias, count: vocab)
        var out = batch.lengths.map { [Float](repeating: 0, count: $0 * vocab) }
        let step = weights.readsInPlace(name) ? vocab : max(1, vocabSlice)
        for first in stride(from: 0, to: vocab, by: step) {
            let rows = min(step, vocab - first)
            let weight = try weights.linearRows(name, first..<(first + rows), width: hidden)
            h.withUnsafeBufferPointer { hp in
                for (s, start) in batch.starts.enumerated() where batch.lengths[s] > 0 {
                    out[s].withUnsafeMutableBufferPointer { op in
                        Kernels.linear(hp.baseAddress! + start * hidden, rows: batch.lengths[s], weight: weight, out: rows, into: op.baseAddress! + first, ldc: vocab)
                    }
                }
            }
        }
        if bias != nil || divisor != 1 {
            for s in out.indices {
                for t in 0..<batch.lengths[s] {
                    for j in 0..<vocab { out[s][t * vocab + j] = (out[s][t * vocab + j] + (bias?[j] ?? 0)) / divisor }
                }
            }
        }
        if let softcap {
            for s in out.indices {
                for i in out[s].indices { out[s][i] = tanh(out[s][i] / softcap) * softcap }
            }
        }
        return out
    }
}
