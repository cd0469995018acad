import XCTest
@testable import MoESlimEngine

/// Attention over sequences longer than one query block, against the textbook definition written out loop by
/// loop: softmax over the visible keys (causal, sliding window, chunk) plus the sink logit, then the values.
final class CausalAttentionTests: XCTestCase {
    func testLongSequencesMatchTheDefinition() {
        for (window, chunk, sinks) in [(nil, nil, false), (37, nil, true), (nil, 100, false)] as [(Int?, Int?, Bool)] {
            var generator = SplitMix(seed: 99)
            let heads = 4, kvHeads = 2, d = 8, lengths = [300, 1, 129]
            var batch = TokenBatch()
            for n in lengths { batch.append([Int32](repeating: 0, count: n)) }
            let q = (0..<(batch.count * heads * d)).map { _ in generator.uniform() * 4 - 2 }
            let k = (0..<(batch.count * kvHeads * d)).map { _ in generator.uniform() * 4 - 2 }
            let v = (0..<(batch.count * kvHeads * d)).map { _ in generator.uniform() - 0.5 }
            let sinkValues = sinks ? (0..<heads).map { Float($0) - 1.5 } : nil
            var attention = CausalAttention(
                numHeads: heads, numKeyValueHeads: kvHeads, queryKeyDim: d, valueDim: d, scaling: 0.35, window: window, sinks: sinkValues)
            attention.chunk = chunk
            let ours = attention(q: q, k: k, v: v, batch: batch)
            var worst: Float = 0
            for (start, n) in zip(batch.starts, batch.lengths) {
                for h in 0..<heads {
                    let g = h / (heads / kvHeads)
                    for i in 0..<n {
                        let visible = (0...i).filter { j in
                            (window.map { i - j < $0 } ?? true) && (chunk.map { i / $0 == j / $0 } ?? true)
                        }
                        let logits = visible.map { j in
                            (0..<d).reduce(Float(0)) { $0 + q[(start + i) * heads * d + h * d + $1] * k[(start + j) * kvHeads * d + g * d + $1] } * 0.35
                        }
                        let m = max(logits.max()!, sinkValues?[h] ?? -.infinity)
                        let weights = logits.map { exp($0 - m) }
                        let total = weights.reduce(0, +) + (sinkValues.map { exp($0[h] - m) } ?? 0)
                        for c in 0..<d {
                            let expected = zip(visible, weights).reduce(Float(0)) { $0 + $1.1 / total * v[(start + $1.0) * kvHeads * d + g * d + c] }
                            worst = max(worst, abs(ours[(start + i) * heads * d + h * d + c] - expected))
                        }
                    }
                }
            }
            XCTAssertLessThan(worst, 1e-5, "window \(String(describing: window)) chunk \(String(describing: chunk)) sinks \(sinks)")
        }
    }
}
