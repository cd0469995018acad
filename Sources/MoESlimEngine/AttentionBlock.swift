import Foundation
import MoESlimSupport
import MoESlimFamilies

/// The attention half of a decoder layer: projections, q/k norms, RoPE and causal attention, for grouped-query
/// and multi-head latent attention. Biases and sinks are used exactly when the checkpoint stores them.
struct AttentionBlock {
    let spec: AttentionSpec
    let names: TensorNames
    let rope: RopeSpec
    let hidden: Int
    let normEps: Float

    func callAsFunction(_ x: [Float], layer: Int, batch: TokenBatch, weights: WeightReader, prefix: String) throws(MoESlimError) -> [Float] {
        if let linear = spec.linear, linear.layers.contains(layer) {
            let net = GatedDeltaNet(spec: linear, names: names, hidden: hidden, normEps: normEps)
            return try net(x, batch: batch, weights: weights, prefix: prefix + names[.linearAttention])
        }
        let p = prefix + names[.attention]
        let attended: [Float]
        switch spec.kind {
        case .grouped:
            attended = try grouped(x, layer: layer, batch: batch, weights: weights, p: p)
        case .multiLatent(let mla):
            attended = try latent(x, mla: mla, batch: batch, weights: weights, p: p)
        }
        return try project(attended, rows: batch.count, weights: weights, name: p + names[.output], out: hidden)
    }

    private func project(_ x: [Float], rows: Int, weights: WeightReader, name: String, out: Int) throws(MoESlimError) -> [Float] {
        let inDim = x.count / max(rows, 1)
        let w = try weights.linear(name + ".weight", count: out * inDim)
        return Kernels.linear(x, rows: rows, weight: w, out: out, bias: try weights.loadIfPresent(name + ".bias", count: out))
    }

    private func grouped(_ x: [Float], layer: Int, batch: TokenBatch, weights: WeightReader, p: String) throws(MoESlimError) -> [Float] {
        let d = spec.headDim
        let rows = batch.count
        var q = try project(x, rows: rows, weights: weights, name: p + names[.query], out: spec.numHeads * d * (spec.outputGate ? 2 : 1))
        var gate: [Float]?
        if spec.outputGate { (q, gate) = Self.splitQueryAndGate(q, rows: rows, heads: spec.numHeads, headDim: d) }
        var k = try project(x, rows: rows, weights: weights, name: p + names[.key], out: spec.numKeyValueHeads * d)
        let v = try project(x, rows: rows, weights: weights, name: p + names[.value], out: spec.numKeyValueHeads * d)
        func normWeight(_ role: TensorRole, _ count: Int) throws(MoESlimError) -> [Float] {
            try weights.load(p + names[role] + ".weight", count: count).map { $0 + spec.normWeightOffset }
        }
        switch spec.qkNorm {
        case .none, .unweightedAfterRope: break
        case .perHead:
            Kernels.rmsNorm(&q, width: d, weight: try normWeight(.queryNorm, d), eps: normEps)
            Kernels.rmsNorm(&k, width: d, weight: try normWeight(.keyNorm, d), eps: normEps)
        case .whole:
            let qw = spec.numHeads * d, kw = spec.numKeyValueHeads * d
            Kernels.rmsNorm(&q, width: qw, weight: try normWeight(.queryNorm, qw), eps: normEps)
            Kernels.rmsNorm(&k, width: kw, weight: try normWeight(.keyNorm, kw), eps: normEps)
        }
        if spec.noRopeLayers.contains(layer) {
            if let tuning = spec.temperatureTuning { Self.tuneTemperature(&q, tuning, width: spec.numHeads * d, batch: batch) }
        } else {
            rope.apply(&q, rowStride: spec.numHeads * d, heads: spec.numHeads, headStride: d, offset: 0, batch: batch)
            rope.apply(&k, rowStride: spec.numKeyValueHeads * d, heads: spec.numKeyValueHeads, headStride: d, offset: 0, batch: batch)
            if case .unweightedAfterRope = spec.qkNorm {
                Kernels.rmsNorm(&q, width: d, weight: [Float](repeating: 1, count: d), eps: normEps)
                Kernels.rmsNorm(&k, width: d, weight: [Float](repeating: 1, count: d), eps: normEps)
            }
        }
        var attention = CausalAttention(
            numHeads: spec.numHeads, numKeyValueHeads: spec.numKeyValueHeads, queryKeyDim: d, valueDim: d,
            scaling: spec.scaling, window: spec.slidingWindows[layer],
            sinks: try weights.loadIfPresent(p + names[.sinks], count: spec.numHeads))
        attention.chunk = spec.chunks[layer]
        var out = attention(q: q, k: k, v: v, batch: batch)
        if let gate {
            for i in out.indices { out[i] *= Kernels.sigmoid(gate[i]) }
        }
        return out
    }

    /// q_proj's rows per head are the head's query then its output gate (transformers' view(..., head_dim * 2)
    /// and chunk(2)): [rows, heads·2d] → queries and gates, each [rows, heads·d].
    private static func splitQueryAndGate(_ qg: [Float], rows: Int, heads: Int, headDim d: Int) -> ([Float], [Float]) {
        var q = [Float](repeating: 0, count: rows * heads * d), gate = q
        for r in 0..<rows {
            for h in 0..<heads {
                let src = (r * heads + h) * 2 * d, dst = (r * heads + h) * d
                for c in 0..<d {
                    q[dst + c] = qg[src + c]
                    gate[dst + c] = qg[src + d + c]
                }
            }
        }
        return (q, gate)
    }

    private static func tuneTemperature(_ q: inout [Float], _ tuning: (floorScale: Float, scale: Float), width: Int, batch: TokenBatch) {
        for (row, position) in batch.positions.enumerated() {
            let factor = log1p(((Float(position) + 1) / tuning.floorScale).rounded(.down)) * tuning.scale + 1
            for c in 0..<width { q[row * width + c] *= factor }
        }
    }

    private func latent(_ x: [Float], mla: MultiLatentSpec, batch: TokenBatch, weights: WeightReader, p: String) throws(MoESlimError) -> [Float] {
        let rows = batch.count
        let heads = spec.numHeads
        let qk = mla.nopeDim + mla.ropeDim
        var q: [Float]
        if let rank = mla.qLoraRank {
            var qa = try project(x, rows: rows, weights: weights, name: p + names[.queryDown], out: rank)
            Kernels.rmsNorm(&qa, width: rank, weight: try weights.load(p + names[.queryDownNorm] + ".weight", count: rank), eps: mla.latentNormEps)
            q = try project(qa, rows: rows, weights: weights, name: p + names[.queryUp], out: heads * qk)
        } else {
            q = try project(x, rows: rows, weights: weights, name: p + names[.query], out: heads * qk)
        }
        if mla.queryScale != 1 { for i in q.indices { q[i] *= mla.queryScale } }
        let compressedWidth = mla.kvLoraRank + mla.ropeDim
        let compressed = try project(x, rows: rows, weights: weights, name: p + names[.keyValueDown], out: compressedWidth)
        var latent = [Float](repeating: 0, count: rows * mla.kvLoraRank)
        var keyRot = [Float](repeating: 0, count: rows * mla.ropeDim)
        for r in 0..<rows {
            for c in 0..<mla.kvLoraRank { latent[r * mla.kvLoraRank + c] = compressed[r * compressedWidth + c] }
            for c in 0..<mla.ropeDim { keyRot[r * mla.ropeDim + c] = compressed[r * compressedWidth + mla.kvLoraRank + c] }
        }
        Kernels.rmsNorm(&latent, width: mla.kvLoraRank, weight: try weights.load(p + names[.keyValueDownNorm] + ".weight", count: mla.kvLoraRank), eps: mla.latentNormEps)
        if mla.latentScale != 1 { for i in latent.indices { latent[i] *= mla.latentScale } }
        rope.apply(&q, rowStride: heads * qk, heads: heads, headStride: qk, offset: mla.nopeDim, batch: batch)
        rope.apply(&keyRot, rowStride: mla.ropeDim, heads: 1, headStride: mla.ropeDim, offset: 0, batch: batch)
        let perHead = mla.nopeDim + mla.valueDim
        let kv = try project(latent, rows: rows, weights: weights, name: p + names[.keyValueUp], out: heads * perHead)
        var keys = [Float](repeating: 0, count: rows * heads * qk)
        var values = [Float](repeating: 0, count: rows * heads * mla.valueDim)
        for r in 0..<rows {
            for h in 0..<heads {
                let src = r * heads * perHead + h * perHead
                let kDst = r * heads * qk + h * qk
                for c in 0..<mla.nopeDim { keys[kDst + c] = kv[src + c] }
                for c in 0..<mla.ropeDim { keys[kDst + mla.nopeDim + c] = keyRot[r * mla.ropeDim + c] }
                let vDst = r * heads * mla.valueDim + h * mla.valueDim
                for c in 0..<mla.valueDim { values[vDst + c] = kv[src + mla.nopeDim + c] }
            }
        }
        let attention = CausalAttention(
            numHeads: heads, numKeyValueHeads: heads, queryKeyDim: qk, valueDim: mla.valueDim, scaling: spec.scaling,
            window: nil, sinks: nil)
        return attention(q: q, k: keys, v: values, batch: batch)
    }
}
