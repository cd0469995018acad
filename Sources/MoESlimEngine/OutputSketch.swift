/// A fixed random projection of an expert's output vector to `width` numbers, so the counts can hold each
/// expert's mean output (HC-SMoE's similarity) in 64 numbers instead of `hidden_size` (formats/counts.md,
/// `output_sketch`). Cosines of projected vectors approximate cosines of the full ones (Johnson–Lindenstrauss).
///
/// Entry (j, c) of the projection is ±1 from an integer hash that any language reproduces exactly:
/// h = mix(((j << 32) | c) ⊕ seed) with mix the SplitMix64 step (as the random criterion), +1 when the top bit of
/// h is 0, else -1. The sketch of y is z_j = (Σ_c sign(j, c) · y_c) / √hidden: dividing by √hidden keeps each
/// |z_j| ≤ ‖y‖ (Cauchy–Schwarz), within the 2⁴⁰ every per-token term of the counts stays below.
package enum OutputSketch {
    /// Projected dimensions: cosine error about 1/√64 ≈ 0.13 per pair, 64 numbers per expert and layer.
    package static let width = 64
    /// "MoESlim!" in ASCII; changing it changes what `output_sketch` means.
    package static let seed: UInt64 = 0x4D6F_4553_6C69_6D21

    /// The SplitMix64 step, as the random criterion's (formats/counts.md, "Random").
    @inline(__always) static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The projection's entry for sketch row `row` and output component `column`.
    package static func sign(row: Int, column: Int) -> Float {
        mix((UInt64(row) << 32 | UInt64(column)) ^ seed) >> 63 == 0 ? 1 : -1
    }

    /// The projection as a Linear weight [width, hidden], row-major: a chunk's outputs are sketched with one
    /// matrix product per expert.
    static func matrix(hidden: Int) -> [Float] {
        var m = [Float](repeating: 0, count: width * hidden)
        for j in 0..<width {
            for c in 0..<hidden { m[j * hidden + c] = sign(row: j, column: c) }
        }
        return m
    }
}
