/// The output projection, applied a slice of the vocabulary at a time: widening a 150k-row head to f32 at once
/// would take gigabytes that nothing else in the pass needs. Tied models pass the embedding as `name`.
struct LMHead {
    let weights: WeightReader
    let name: String
    let hidden: Int
    let divisor: Float

    /// `h` is the final-normed [tokens, hidden] of the whole batch; returns each sequence's [tokens, vocab].
    func callAsFunction(_ h: [Float], batch: TokenBatch, vocabSlice: Int) throws(MoESlimError) -> [[Float]] {
        let shape = try weights.shape(name)
        guard shape.count == 2, shape[1] == hidden else {
            throw MoESlimError(.invalidTensor, "expected [vocab, \(hidden)], found \(shape)", path: weights.checkpoint.path, tensor: name)
        }
        let vocab = shape[0]
        let bias = try weights.loadIfPresent("lm_head.bias", count: vocab)
        var out = batch.lengths.map { [Float](repeating: 0, count: $0 * vocab) }
        let step = max(1, vocabSlice)
        for first in stride(from: 0, to: vocab, by: step) {
            let rows = min(step, vocab - first)
            let y = Kernels.linear(h, rows: batch.count, weight: try weights.linearRows(name, first..<(first + rows), width: hidden), out: rows)
            for (s, start) in batch.starts.enumerated() {
                for t in 0..<batch.lengths[s] {
                    let source = (start + t) * rows
                    let target = t * vocab + first
                    for j in 0..<rows {
                        var v = y[source + j]
                        if let bias { v += bias[first + j] }
                        out[s][target + j] = v / divisor
                    }
                }
            }
        }
        return out
    }
}
