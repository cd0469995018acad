import Foundation
import MoESlimSupport
import MoESlimFamilies

/// Gated DeltaNet linear attention (Qwen3-Next, Qwen3.5) in the recurrent form of transformers'
/// torch_recurrent_gated_delta_rule, f32 throughout: input projections, a causal depthwise convolution with SiLU
/// over q, k and v, L2-normalised q and k (q also scaled by 1/√d_k), then per value head a d_k × d_v state that
/// decays by exp(g), takes the delta rule's rank-one correction β·k(v − Sᵀk)ᵀ and is read by q; the output goes
/// through an RMSNorm gated by SiLU(z) and out_proj. Both the convolution window and the state start from zero
/// at every sequence's first token and run through the sequence's tokens in order, so a chunk holding several
/// sequences gives each exactly what it would alone (calibrate never splits a sequence across chunks).
struct GatedDeltaNet {
    let spec: LinearAttentionSpec
    let names: TensorNames
    let hidden: Int
    let normEps: Float

    /// transformers' l2norm: x · rsqrt(Σx² + 1e-6).
    private static let l2Eps: Float = 1e-6

    func callAsFunction(_ x: [Float], batch: TokenBatch, weights: WeightReader, prefix p: String) throws(MoESlimError) -> [Float] {
        let rows = batch.count
        let (mixed, z, b, a) = try project(x, rows: rows, weights: weights, p: p)
        let channels = spec.convChannels
        let kernel = try weights.load(p + names[.linearConv], count: channels * spec.convKernel)
        let convolved = convolve(mixed, kernel: kernel, batch: batch)
        let decayLog = try weights.load(p + names[.linearDecayLog], count: spec.valueHeads)
        let timeStepBias = try weights.load(p + names[.linearTimeStepBias], count: spec.valueHeads)
        var beta = [Float](repeating: 0, count: rows * spec.valueHeads), decay = beta
        for t in 0..<rows {
            for h in 0..<spec.valueHeads {
                let i = t * spec.valueHeads + h
                beta[i] = Kernels.sigmoid(b[i])
                decay[i] = exp(-exp(decayLog[h]) * Self.softplus(a[i] + timeStepBias[h]))
            }
        }
        var core = recur(convolved, beta: beta, decay: decay, batch: batch)
        let normWeight = try weights.load(p + names[.linearNorm] + ".weight", count: spec.valueDim)
        Kernels.rmsNorm(&core, width: spec.valueDim, weight: normWeight, eps: normEps)
        for i in core.indices { core[i] *= Kernels.silu(z[i]) }
        let output = try weights.linear(p + names[.linearOutput] + ".weight", count: hidden * spec.valueHeads * spec.valueDim)
        return Kernels.linear(core, rows: rows, weight: output, out: hidden)
    }

    /// torch's softplus (beta 1, threshold 20).
    private static func softplus(_ v: Float) -> Float { v > 20 ? v : log1p(exp(v)) }

    /// Each token's [q | k | v] (all key heads' q, then k, then all value heads' v), z, b and a, whichever way
    /// the checkpoint stores the projections.
    private func project(_ x: [Float], rows: Int, weights: WeightReader, p: String) throws(MoESlimError) -> (mixed: [Float], z: [Float], b: [Float], a: [Float]) {
        let nk = spec.keyHeads, nv = spec.valueHeads, dk = spec.keyDim, dv = spec.valueDim
        let keyWidth = nk * dk, valueWidth = nv * dv
        func linear(_ role: TensorRole, out: Int) throws(MoESlimError) -> [Float] {
            let w = try weights.linear(p + names[role] + ".weight", count: out * hidden)
            return Kernels.linear(x, rows: rows, weight: w, out: out)
        }
        switch spec.projections {
        case .separate:
            return (try linear(.linearQKV, out: 2 * keyWidth + valueWidth), try linear(.linearZ, out: valueWidth),
                    try linear(.linearB, out: nv), try linear(.linearA, out: nv))
        case .interleaved:
            let perGroup = nv / nk
            let qkvzWidth = 2 * keyWidth + 2 * valueWidth, groupWidth = 2 * dk + 2 * perGroup * dv
            let qkvz = try linear(.linearQKVZ, out: qkvzWidth)
            let ba = try linear(.linearBA, out: 2 * nv)
            var mixed = [Float](repeating: 0, count: rows * spec.convChannels)
            var z = [Float](repeating: 0, count: rows * valueWidth)
            var b = [Float](repeating: 0, count: rows * nv), a = b
            for t in 0..<rows {
                let m = t * spec.convChannels
                for g in 0..<nk {
                    let src = t * qkvzWidth + g * groupWidth
                    for c in 0..<dk {
                        mixed[m + g * dk + c] = qkvz[src + c]
                        mixed[m + keyWidth + g * dk + c] = qkvz[src + dk + c]
                    }
                    for c in 0..<(perGroup * dv) {
                        mixed[m + 2 * keyWidth + g * perGroup * dv + c] = qkvz[src + 2 * dk + c]
                        z[t * valueWidth + g * perGroup * dv + c] = qkvz[src + 2 * dk + perGroup * dv + c]
                    }
                    for j in 0..<perGroup {
                        b[t * nv + g * perGroup + j] = ba[t * 2 * nv + g * 2 * perGroup + j]
                        a[t * nv + g * perGroup + j] = ba[t * 2 * nv + g * 2 * perGroup + perGroup + j]
                    }
                }
            }
            return (mixed, z, b, a)
        }
    }

    /// Depthwise causal convolution then SiLU: out[t, c] = SiLU(Σ_j w[c, j] · in[t − (K−1) + j, c]), the
    /// positions before the sequence's first token being zero (conv1d with K − 1 left padding).
    private func convolve(_ input: [Float], kernel: [Float], batch: TokenBatch) -> [Float] {
        let channels = spec.convChannels, width = spec.convKernel
        var out = [Float](repeating: 0, count: input.count)
        for (start, length) in zip(batch.starts, batch.lengths) {
            for t in 0..<length {
                for c in 0..<channels {
                    var sum: Float = 0
                    for j in 0..<width {
                        let source = t - (width - 1) + j
                        if source >= 0 { sum += kernel[c * width + j] * input[(start + source) * channels + c] }
                    }
                    out[(start + t) * channels + c] = Kernels.silu(sum)
                }
            }
        }
        return out
    }

    /// The gated delta rule, token by token, one (sequence, value head) per work item.
    private func recur(_ mixed: [Float], beta: [Float], decay: [Float], batch: TokenBatch) -> [Float] {
        let nk = spec.keyHeads, nv = spec.valueHeads, dk = spec.keyDim, dv = spec.valueDim
        let channels = spec.convChannels, perGroup = nv / nk
        let scale = 1 / Float(dk).squareRoot()
        var out = [Float](repeating: 0, count: batch.count * nv * dv)
        let items = batch.lengths.indices.flatMap { s in (0..<nv).map { (s, $0) } }
        mixed.withUnsafeBufferPointer { mp in
            out.withUnsafeMutableBufferPointer { op in
                let input = SharedReadPointer(base: mp.baseAddress!), output = SharedPointer(base: op.baseAddress!)
                Parallel.ranges(items.count, minimum: 1) { range in
                    var state = [Float](repeating: 0, count: dk * dv)
                    var q = [Float](repeating: 0, count: dk), k = q, delta = [Float](repeating: 0, count: dv)
                    for (s, h) in items[range] {
                        for i in state.indices { state[i] = 0 }
                        let g = h / perGroup
                        for t in batch.starts[s] ..< batch.starts[s] + batch.lengths[s] {
                            let row = input.base + t * channels
                            Self.l2Normalized(row + g * dk, count: dk, into: &q, scale: scale)
                            Self.l2Normalized(row + nk * dk + g * dk, count: dk, into: &k, scale: 1)
                            let v = row + 2 * nk * dk + h * dv
                            let d = decay[t * nv + h], bt = beta[t * nv + h]
                            for i in 0..<(dk * dv) { state[i] *= d }
                            for j in 0..<dv {
                                var memory: Float = 0
                                for i in 0..<dk { memory += state[i * dv + j] * k[i] }
                                delta[j] = (v[j] - memory) * bt
                            }
                            for i in 0..<dk {
                                for j in 0..<dv { state[i * dv + j] += k[i] * delta[j] }
                            }
                            let o = output.base + (t * nv + h) * dv
                            for j in 0..<dv {
                                var sum: Float = 0
                                for i in 0..<dk { sum += state[i * dv + j] * q[i] }
                                o[j] = sum
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    private static func l2Normalized(_ x: UnsafePointer<Float>, count: Int, into out: inout [Float], scale: Float) {
        var sum: Float = 0
        for i in 0..<count { sum += x[i] * x[i] }
        let inverse = 1 / (sum + l2Eps).squareRoot()
        for i in 0..<count { out[i] = x[i] * inverse * scale }
    }
}
