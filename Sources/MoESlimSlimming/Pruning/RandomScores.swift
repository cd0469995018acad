import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies

/// `--criterion random --seed N`: every expert gets a score from SplitMix64 alone, so a plan depends on the seed,
/// the layer index and the expert id only (not on the machine, the counts or the order of layers), and the same
/// seed gives the same plan in prune and sweep. score(layer, expert) = mix(mix(mix(seed) ^ layer) ^ expert), with
/// `mix` SplitMix64's finaliser on the golden-ratio increment (formats/counts.md, "Criteria").
public struct RandomScores: Sendable {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    /// SplitMix64 (Steele, Lea, Flood 2014): one step of the generator on state `x`.
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The top 53 bits, so the Double holds the integer exactly and ranks as it does.
    public func score(layer: Int, expert: Int) -> Double {
        Double(Self.mix(Self.mix(Self.mix(seed) ^ UInt64(layer)) ^ UInt64(expert)) >> 11)
    }

    func table(_ model: ModelDescription) -> [Int: [Double]] {
        Dictionary(uniqueKeysWithValues: model.moeLayers.map { layer in
            (layer.layer, (0..<layer.numExperts).map { score(layer: layer.layer, expert: $0) })
        })
    }
}
