import MoESlimSupport
import MoESlimFamilies

/// LFM2's gated short convolution (Lfm2MoeShortConv without a cache), f32 apart from the projections: in_proj
/// gives each token B, C and x (hidden_size wide each, in that order), B·x runs through a causal depthwise
/// convolution whose window starts from zeros at every sequence's first token (F.conv1d with kernel − 1 zeros of
/// left padding), the result is multiplied by C and goes through out_proj. Biases are used when stored.
struct ShortConvolution {
    let spec: ShortConvolutionSpec
    let names: TensorNames
    let hidden: Int

    func callAsFunction(_ x: [Float], batch: TokenBatch, weights: WeightReader, prefix p: String) throws(MoESlimError) -> [Float] {
        let rows = batch.count, width = spec.kernel
        let input = p + names[.shortConvolutionInput]
        let bcx = Kernels.linear(
            x, rows: rows, weight: try weights.linear(input + ".weight", count: 3 * hidden * hidden), out: 3 * hidden,
            bias: try weights.loadIfPresent(input + ".bias", count: 3 * hidden))
        var gated = [Float](repeating: 0, count: rows * hidden)
        for t in 0..<rows {
            for c in 0..<hidden { gated[t * hidden + c] = bcx[t * 3 * hidden + c] * bcx[t * 3 * hidden + 2 * hidden + c] }
        }
        let conv = p + names[.shortConvolutionKernel]
        let kernel = try weights.load(conv + ".weight", count: hidden * width)
        let bias = try weights.loadIfPresent(conv + ".bias", count: hidden)
        var y = [Float](repeating: 0, count: rows * hidden)
        for (start, length) in zip(batch.starts, batch.lengths) {
            for t in 0..<length {
                for c in 0..<hidden {
                    var sum: Float = bias?[c] ?? 0
                    for j in 0..<width {
                        let source = t - (width - 1) + j
                        if source >= 0 { sum += kernel[c * width + j] * gated[(start + source) * hidden + c] }
                    }
                    y[(start + t) * hidden + c] = bcx[(start + t) * 3 * hidden + hidden + c] * sum
                }
            }
        }
        let output = p + names[.shortConvolutionOutput]
        return Kernels.linear(
            y, rows: rows, weight: try weights.linear(output + ".weight", count: hidden * hidden), out: hidden,
            bias: try weights.loadIfPresent(output + ".bias", count: hidden))
    }
}
