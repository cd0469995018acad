import Foundation

/// One MoE layer on a chunk: route every token, then run each expert once on all the tokens routed to it
/// (one gathered matrix, one sgemm per weight), combine with the gate weights, and add the shared expert.
struct MoEBlock {
    let spec: EngineSpec
    let layer: MoELayer
    let rule: RoutingRule
    let hidden: Int
    /// The original experts the router may choose (ascending), or nil for all of them.
    var kept: [Int]? = nil

    func callAsFunction(_ x: [Float], rows: Int, weights: WeightReader, prefix: String) throws(MoESlimError) -> (output: [Float], record: RoutingRecord) {
        let p = prefix + spec.moePath
        let e = layer.numExperts, k = layer.topK
        let routerWeight = try weights.load(p + spec.router.weight, count: e * hidden)
        let routerBias = try spec.router.bias.flatMap { name throws(MoESlimError) in try weights.loadIfPresent(p + name, count: e) }
        let correction = try spec.router.correctionBias.flatMap { name throws(MoESlimError) in try weights.loadIfPresent(p + name, count: e) }
        let logits: [Float]
        let routed: (scores: [Float], selected: [Int32], weights: [Float])
        if let kept, kept.count < e {
            (logits, routed) = route(x, rows: rows, kept: kept, weight: routerWeight, bias: routerBias, correction: correction)
        } else {
            logits = Kernels.linear(x, rows: rows, weight: routerWeight, out: e, bias: routerBias)
            routed = Router(rule: rule, experts: e, topK: k, groupScore: spec.groupScore, selection: spec.selection).route(logits, tokens: rows, correctionBias: correction)
        }

        var assigned = [[(token: Int, slot: Int)]](repeating: [], count: e)
        for t in 0..<rows {
            for s in 0..<k { assigned[Int(routed.selected[t * k + s])].append((t, s)) }
        }
        var output = [Float](repeating: 0, count: rows * hidden)
        var norms = [Float](repeating: 0, count: rows * k)
        let experts = try ExpertRunner(format: spec.experts, layer: layer, prefix: p, weights: weights, hidden: hidden)
        for expert in 0..<e where !assigned[expert].isEmpty {
            let tokens = assigned[expert]
            let onInput = spec.gateScalesExpertInput
            var gathered = [Float](repeating: 0, count: tokens.count * hidden)
            for (i, a) in tokens.enumerated() {
                let scale = onInput ? routed.weights[a.token * k + a.slot] : 1
                for c in 0..<hidden { gathered[i * hidden + c] = scale * x[a.token * hidden + c] }
            }
            let y = try experts.run(expert, gathered, rows: tokens.count)
            for (i, a) in tokens.enumerated() {
                let w = routed.weights[a.token * k + a.slot]
                let outputScale = onInput ? 1 : w
                var squares: Float = 0
                for c in 0..<hidden {
                    let v = y[i * hidden + c]
                    squares += v * v
                    output[a.token * hidden + c] += outputScale * v
                }
                norms[a.token * k + a.slot] = squares.squareRoot() / (onInput ? w : 1)
            }
        }
        if let shared = spec.sharedExpert {
            try addShared(shared, x, rows: rows, weights: weights, prefix: p, into: &output)
        }
        let record = RoutingRecord(
            layer: layer.layer, tokens: rows, experts: e, topK: k, logits: logits, scores: routed.scores,
            selected: routed.selected, weights: routed.weights, outputNorms: norms)
        return (output, record)
    }

    /// Routing as the pruned checkpoint's router does it: only the kept rows of the router tensors, so softmax,
    /// groups and top-k see exactly the experts that remain. Results come back in original expert ids, with
    /// -inf logits and zero scores for the removed experts.
    private func route(
        _ x: [Float], rows: Int, kept: [Int], weight: [Float], bias: [Float]?, correction: [Float]?
    ) -> (logits: [Float], routed: (scores: [Float], selected: [Int32], weights: [Float])) {
        let e = layer.numExperts, n = kept.count
        var keptWeight = [Float](repeating: 0, count: n * hidden)
        for (i, expert) in kept.enumerated() {
            for c in 0..<hidden { keptWeight[i * hidden + c] = weight[expert * hidden + c] }
        }
        let keptLogits = Kernels.linear(x, rows: rows, weight: keptWeight, out: n, bias: bias.map { b in kept.map { b[$0] } })
        let router = Router(rule: rule, experts: n, topK: layer.topK, groupScore: spec.groupScore, selection: spec.selection)
        let routed = router.route(keptLogits, tokens: rows, correctionBias: correction.map { b in kept.map { b[$0] } })
        var logits = [Float](repeating: -.infinity, count: rows * e)
        var scores = [Float](repeating: 0, count: rows * e)
        for t in 0..<rows {
            for (i, expert) in kept.enumerated() {
                logits[t * e + expert] = keptLogits[t * n + i]
                scores[t * e + expert] = routed.scores[t * n + i]
            }
        }
        return (logits, (scores, routed.selected.map { Int32(kept[Int($0)]) }, routed.weights))
    }

    private func addShared(_ shared: SharedExpertSpec, _ x: [Float], rows: Int, weights: WeightReader, prefix: String, into output: inout [Float]) throws(MoESlimError) {
        let m = shared.mlp
        let y = Kernels.gatedMLP(
            x, rows: rows, gate: try weights.linear(prefix + m.prefix + m.gate), up: try weights.linear(prefix + m.prefix + m.up),
            down: try weights.linear(prefix + m.prefix + m.down), hidden: hidden)
        var gate = [Float](repeating: 1, count: rows)
        if let name = shared.gate {
            gate = Kernels.linear(x, rows: rows, weight: try weights.load(prefix + name, count: hidden), out: 1).map(Kernels.sigmoid)
        }
        for t in 0..<rows {
            for c in 0..<hidden { output[t * hidden + c] += gate[t] * y[t * hidden + c] }
        }
    }
}
