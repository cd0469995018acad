import Foundation
import MoESlimSupport
import MoESlimFamilies

/// The attention half of a decoder layer: projections, q/k norms, RoPE and causal attention, for grouped-query
/// and multi-head latent attention, or the mixer that takes its place on a hybrid model's other layers. Biases
/// and sinks are used exactly when the checkpoint stores them.
struct AttentionBlock {
    let spec: AttentionSpec
    let names: TensorNames
    let rope: RopeSpec
    /// Layers with a rotation of their own (`EngineSpec.layerRopes`).
    var layerRopes: [Int: RopeSpec] = [:]
    let hidden: Int
    let normEps: Float

    func callAsFunction(_ x: [Float], layer: Int, batch: TokenBatch, weights: WeightReader, prefix: String) throws(MoESlimError) -> [Float] {
        if let linear = spec.linear, linear.layers.contains(layer) {
            let net = GatedDeltaNet(spec: linear, names: names, hidden: hidden, normEps: normEps)
            return try net(x, batch: batch, weights: weights, prefix: prefix + names[.linearAttention])
        }
        if let conv = spec.shortConvolution, conv.layers.contains(layer) {
            let mixer = ShortConvolution(spec: conv, names: names, hidden: hidden)
            return try mixer(x, batch: batch, weights: weights, prefix: prefix + names[.shortConvolution])
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
        let d = spec.headWidth(layer)
        let kvHeads = spec.keyValueHeads(layer)
        let rows = batch.count
        let heads = spec.heads(layer)
        let rope = layerRopes[layer] ?? self.rope
        var q: [Float]
        var gate: [Float]?
        switch spec.outputGate {
        case .inQuery:
            let qg = try project(x, rows: rows, weights: weights, name: p + names[.query], out: heads * d * 2)
            (q, gate) = Self.splitQueryAndGate(qg, rows: rows, heads: heads, headDim: d)
        case .ownProjection:
            q = try project(x, rows: rows, weights: weights, name: p + names[.query], out: heads * d)
            gate = try project(x, rows: rows, weights: weights, name: p + names[.attentionGate], out: heads * d)
        case nil:
            q = try project(x, rows: rows, weights: weights, name: p + names[.query], out: heads * d)
        }
        var k = try project(x, rows: rows, weights: weights, name: p + names[.key], out: kvHeads * d)
        var v = spec.keysAsValuesLayers.contains(layer) ? k : try project(x, rows: rows, weights: weights, name: p + names[.value], out: kvHeads * d)
        if spec.valueNorm { Kernels.rmsNorm(&v, width: d, weight: [Float](repeating: 1, count: d), eps: normEps) }
        func normWeight(_ role: TensorRole, _ count: Int) throws(MoESlimError) -> [Float] {
            try weights.load(p + names[role] + ".weight", count: count).map { $0 + spec.normWeightOffset }
        }
        func normalizePerHead() throws(MoESlimError) {
            Kernels.rmsNorm(&q, width: d, weight: try normWeight(.queryNorm, d), eps: normEps)
            Kernels.rmsNorm(&k, width: d, weight: try normWeight(.keyNorm, d), eps: normEps)
        }
        switch spec.qkNorm {
        case .none, .unweightedAfterRope, .perHeadAfterRope: break
        case .perHead:
            try normalizePerHead()
        case .whole:
            let qw = heads * d, kw = kvHeads * d
            Kernels.rmsNorm(&q, width: qw, weight: try normWeight(.queryNorm, qw), eps: normEps)
            Kernels.rmsNorm(&k, width: kw, weight: try normWeight(.keyNorm, kw), eps: normEps)
        }
        if spec.noRopeLayers.contains(layer) {
            if let tuning = spec.temperatureTuning { Self.tuneTemperature(&q, tuning, width: heads * d, batch: batch) }
        } else {
            rope.apply(&q, rowStride: heads * d, heads: heads, headStride: d, offset: 0, batch: batch)
            rope.apply(&k, rowStride: kvHeads * d, heads: kvHeads, headStride: d, offset: 0, batch: batch)
            if case .unweightedAfterRope = spec.qkNorm {
                Kernels.rmsNorm(&q, width: d, weight: [Float](repeating: 1, count: d), eps: normEps)
                Kernels.rmsNorm(&k, width: d, weight: [Float](repeating: 1, count: d), eps: normEps)
            }
        }
        if case .perHeadAfterRope = spec.qkNorm { try normalizePerHead() }
        var attention = CausalAttention(
            numHeads: heads, numKeyValueHeads: kvHeads, queryKeyDim: d, valueDim: d,
            scaling: spec.scaling, window: spec.slidingWindows[layer],
            sinks: try weights.loadIfPresent(p + names[.sinks], count: heads))
        attention.chunk = spec.chunks[layer]
        var out = attention(q: q, k: k, v: v, batch: batch)
        if let gate {
            for i in out.indices { out[i] *= Kernels.sigmoid(gate[i]) }
        }
        if spec.headGate {
            let perHead = try project(x, rows: rows, weights: weights, name: p + names[.attentionGate], out: heads)
            for r in 0..<rows {
                for h in 0..<heads {
                    let g = Kernels.sigmoid(perHead[r * heads + h])
                    for c in 0..<d { out[(r * heads + h) * d + c] *= g }
                }
            }
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
