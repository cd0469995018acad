import Foundation
import MoESlimFamilies

extension RopeSpec {
    /// Rotates `width` dims starting at `offset` inside each of `heads` heads of every row, in place.
    func apply(_ x: inout [Float], rowStride: Int, heads: Int, headStride: Int, offset: Int, batch: TokenBatch) {
        let half = inverseFrequencies.count
        var cosines = [Float](repeating: 0, count: half)
        var sines = [Float](repeating: 0, count: half)
        x.withUnsafeMutableBufferPointer { xp in
            for (row, position) in batch.positions.enumerated() {
                var frequencies = inverseFrequencies
                var factor = attentionFactor
                if let long, batch.sequenceLengths[row] > long.above {
                    frequencies = long.inverseFrequencies
                    factor = long.attentionFactor
                }
                for i in 0..<half {
                    let angle = Float(position) * frequencies[i]
                    cosines[i] = cos(angle) * factor
                    sines[i] = sin(angle) * factor
                }
                for h in 0..<heads {
                    let base = row * rowStride + h * headStride + offset
                    for i in 0..<half {
                        let (ia, ib) = layout == .pairs ? (base + 2 * i, base + 2 * i + 1) : (base + i, base + i + half)
                        let a = xp[ia], b = xp[ib]
                        xp[ia] = a * cosines[i] - b * sines[i]
                        xp[ib] = b * cosines[i] + a * sines[i]
                    }
                }
            }
        }
    }
}
