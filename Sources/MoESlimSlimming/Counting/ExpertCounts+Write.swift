import Foundation
import MoESlimSupport
import MoESlimFormats

extension ExpertCounts {
    /// Writes the counts file whole or not at all, so an interrupted run never leaves half a JSON behind.
    public func write(to path: String) throws(MoESlimError) {
        try AtomicFile.write(Array(encoded().utf8), to: path)
    }

    /// Each expert's share of the layer's hard counts (the paper's Fig. 2 quantity).
    public static func hardShares(_ layer: Layer) -> [Double] {
        let total = layer.hard.reduce(0, +)
        return layer.hard.map { total > 0 ? $0 / total : 0 }
    }
}
