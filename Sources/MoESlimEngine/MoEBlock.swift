import Foundation
import MoESlimSupport
import MoESlimFamilies

/// One MoE layer on a chunk: route every token, then run each expert once on all the tokens routed to it
/// (one gathered matrix, one matrix product per weight), combine with the gate weights, and add the shared expert.
struct MoEBlock {
    let spec: EngineSpec
    let layer: MoELayer
    let rule: RoutingRule
    let hidden: Int
    /// The original experts the router may choose (ascending), or nil for all of them.
    var kept: [Int]? = nil
    /// OutputSketch's projection when the experts' outputs are measured (norms, largest components and
    /// sketches; ForwardPass.measuresExpertOutputs), nil when they are not.
    var sketch: [Float]? = nil

    private var measuresOutputs: Bool { sketch != nil }

    /// `routerInput`: what the router reads when it is not the experts' input (EngineSpec.expertsBesideDenseMLP).
    /// `addsShared`: whether the shared experts join the output here (they do unless they run beside the block).
    func callAsFunction(
        _ x: [Float], rows: Int, weights: WeightReader, prefix: String, routerInput: [Float]? = nil, addsShared: Bool = true
    ) throws(MoESlimError) -> (output: [Float], record: RoutingRecord) {
        let p = prefix + spec.moePath
        let e = layer.numExperts, k = layer.topK
        let (logits, routed) = try routing(routerInput ?? x, rows: rows, weights: weights, moePrefix: p)

        var assigned = [[(token: Int, slot: Int)]](repeating: [], count: e)
        for t in 0..<rows {
            for s in 0..<k { assigned[Int(routed.selected[t * k + s])].append((t, s)) }
        }
        var output = [Float](repeating: 0, count: rows * hidden)
        var measured = ExpertOutputs(slots: rows * k, sketched: measuresOutputs)
        let experts = try ExpertRunner(
            format: spec.experts, layer: layer, prefix: p, weights: weights, hidden: hidden, limit: spec.expertLimits[layer.layer],
            activation: spec.activation)
        for expert in 0..<e where !assigned[expert].isEmpty {
            let tokens = assigned[expert]
            let gathered = gather(x, tokens: tokens, scales: spec.gateScalesExpertInput ? routed.weights : nil)
            // A zero-compute expert (LongCat-Flash) is the identity: its output is its input.
            guard expert < layer.weightedExperts else {
                combine(gathered, tokens: tokens, gateWeights: routed.weights, into: &output, measured: &measured)
                continue
            }
            let y = try experts.run(expert, gathered, rows: tokens.count)
            experts.release(expert)
            combine(y, tokens: tokens, gateWeights: routed.weights, into: &output, measured: &measured)
            if let sketch { project(y, tokens: tokens, sketch: sketch, into: &measured.sketches) }
        }
        if measuresOutputs { try requireCountable(measured, gateWeights: routed.weights, weights: weights) }
        if addsShared, let shared = spec.sharedExpert {
            try addShared(shared, x, rows: rows, weights: weights, prefix: p, into: &output)
        }
        let record = RoutingRecord(
            layer: layer.layer, tokens: rows, experts: e, topK: k, logits: logits, scores: routed.scores,
            selected: routed.selected, weights: routed.weights, outputNorms: measured.perGateWeight,
            expertOutputNorms: measured.norms, expertOutputMaxima: measured.maxima, expertOutputSketches: measured.sketches)
        return (output, record)
    }

    /// The router's logits and its choice for every row of `x`; Gemma 4's router first normalises its input and
    /// scales the chosen weights per expert (RouterNames.inputScale, .expertScale).
    private func routing(
        _ input: [Float], rows: Int, weights: WeightReader, moePrefix p: String
    ) throws(MoESlimError) -> (logits: [Float], routed: (scores: [Float], selected: [Int32], weights: [Float])) {
        let e = layer.numExperts, k = layer.topK
        var x = input
        if let name = spec.router.inputScale {
            let scale = try weights.load(p + name, count: hidden)
            Kernels.rmsNorm(&x, width: hidden, weight: [Float](repeating: 1, count: hidden), eps: spec.normEps)
            let root = 1 / Float(hidden).squareRoot()
            for r in 0..<rows {
                for c in 0..<hidden { x[r * hidden + c] = x[r * hidden + c] * scale[c] * root }
            }
        }
        let routerWeight = try weights.load(p + spec.router.weight, count: e * hidden)
        let routerBias = try spec.router.bias.flatMap { name throws(MoESlimError) in try weights.loadIfPresent(p + name, count: e) }
        let correction = try spec.router.correctionBias.flatMap { name throws(MoESlimError) in try weights.loadIfPresent(p + name, count: e) }
        var logits: [Float]
        var routed: (scores: [Float], selected: [Int32], weights: [Float])
        if let kept, kept.count < e {
            (logits, routed) = try route(x, rows: rows, kept: kept, weight: routerWeight, bias: routerBias, correction: correction, weights: weights)
        } else {
            logits = Kernels.linear(x, rows: rows, weight: routerWeight, out: e, bias: routerBias)
            try requireFinite(logits, weights: weights)
            routed = Router(
                rule: rule, experts: e, topK: k, groupScore: spec.groupScore, selection: spec.selection,
                renormalizationEpsilon: spec.renormalizationEpsilon
            ).route(logits, tokens: rows, correctionBias: correction)
        }
        if let name = spec.router.expertScale {
            let factors = try weights.load(p + name, count: e)
            for slot in routed.weights.indices { routed.weights[slot] *= factors[Int(routed.selected[slot])] }
        }
        return (logits, routed)
    }

    /// The rows of the tokens routed to one expert, scaled by their gate weight first in the families that
    /// apply it to the expert's input (llama4). Rows are independent, so the copy is spread over the cores.
    private func gather(_ x: [Float], tokens: [(token: Int, slot: Int)], scales: [Float]?) -> [Float] {
        let hidden = self.hidden, k = layer.topK
        return [Float](unsafeUninitializedCapacity: tokens.count * hidden) { out, done in
            x.withUnsafeBufferPointer { xp in
                let source = SharedReadPointer(base: xp.baseAddress!), target = SharedPointer(base: out.baseAddress!)
                Parallel.ranges(tokens.count, minimum: 64) { rows in
                    for i in rows {
                        let a = tokens[i]
                        let scale = scales.map { $0[a.token * k + a.slot] } ?? 1
                        for c in 0..<hidden { target.base[i * hidden + c] = scale * source.base[a.token * hidden + c] }
                    }
                }
            }
            done = tokens.count * hidden
        }
    }

    /// What the counts need of each selected expert's output, one entry per token and slot.
    private struct ExpertOutputs {
        /// ‖output‖ per unit of gate weight (RoutingRecord.outputNorms).
        var perGateWeight: [Float]
        var norms: [Float]
        var maxima: [Float]
        /// OutputSketch.width numbers per slot, or none when the outputs are not measured.
        var sketches: [Float]

        init(slots: Int, sketched: Bool) {
            perGateWeight = [Float](repeating: 0, count: slots)
            norms = perGateWeight
            maxima = perGateWeight
            sketches = [Float](repeating: 0, count: sketched ? slots * OutputSketch.width : 0)
        }
    }

    /// Each output row's OutputSketch, stored at its token's slot: one product with the ±1 projection (every
    /// output element one fixed chain of multiply-adds, so a token's sketch does not depend on the other rows),
    /// then the 1/√hidden scale.
    private func project(_ y: [Float], tokens: [(token: Int, slot: Int)], sketch: [Float], into sketches: inout [Float]) {
        let width = OutputSketch.width, k = layer.topK
        let z = Kernels.linear(y, rows: tokens.count, weight: sketch, out: width)
        let scale = 1 / Float(hidden).squareRoot()
        for (i, a) in tokens.enumerated() {
            let slot = a.token * k + a.slot
            for j in 0..<width { sketches[slot * width + j] = z[i * width + j] * scale }
        }
    }

    /// Adds one expert's outputs into its tokens' rows and records each output's norm and largest component.
    /// One expert's tokens are distinct, so their rows never collide across cores; experts still go one after another.
    private func combine(_ y: [Float], tokens: [(token: Int, slot: Int)], gateWeights: [Float], into output: inout [Float], measured: inout ExpertOutputs) {
        let hidden = self.hidden, k = layer.topK, onInput = spec.gateScalesExpertInput, measure = measuresOutputs
        y.withUnsafeBufferPointer { yp in
            output.withUnsafeMutableBufferPointer { op in
                measured.perGateWeight.withUnsafeMutableBufferPointer { gp in
                    measured.norms.withUnsafeMutableBufferPointer { np in
                        measured.maxima.withUnsafeMutableBufferPointer { mp in
                            let y = SharedReadPointer(base: yp.baseAddress!), out = SharedPointer(base: op.baseAddress!)
                            let perWeight = SharedPointer(base: gp.baseAddress!), norms = SharedPointer(base: np.baseAddress!)
                            let maxima = SharedPointer(base: mp.baseAddress!)
                            Parallel.ranges(tokens.count, minimum: 64) { rows in
                                for i in rows {
                                    let a = tokens[i], slot = a.token * k + a.slot
                                    let w = gateWeights[slot]
                                    let outputScale = onInput ? 1 : w
                                    guard measure else {
                                        for c in 0..<hidden { out.base[a.token * hidden + c] += outputScale * y.base[i * hidden + c] }
                                        continue
                                    }
                                    var squares: Float = 0, largest: Float = 0
                                    for c in 0..<hidden {
                                        let v = y.base[i * hidden + c]
                                        squares += v * v
                                        largest = max(largest, abs(v))
                                        out.base[a.token * hidden + c] += outputScale * v
                                    }
                                    let norm = squares.squareRoot()
                                    norms.base[slot] = norm
                                    maxima.base[slot] = largest
                                    perWeight.base[slot] = norm / (onInput ? w : 1)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Routing as the pruned checkpoint's router does it: only the kept rows of the router tensors, so softmax,
    /// groups and top-k see exactly the experts that remain. Results come back in original expert ids, with
    /// -inf logits and zero scores for the removed experts.
    private func route(
        _ x: [Float], rows: Int, kept: [Int], weight: [Float], bias: [Float]?, correction: [Float]?, weights: WeightReader
    ) throws(MoESlimError) -> (logits: [Float], routed: (scores: [Float], selected: [Int32], weights: [Float])) {
        let e = layer.numExperts, n = kept.count
        var keptWeight = [Float](repeating: 0, count: n * hidden)
        for (i, expert) in kept.enumerated() {
            for c in 0..<hidden { keptWeight[i * hidden + c] = weight[expert * hidden + c] }
        }
        let keptLogits = Kernels.linear(x, rows: rows, weight: keptWeight, out: n, bias: bias.map { b in kept.map { b[$0] } })
        try requireFinite(keptLogits, weights: weights)
        let router = Router(
            rule: rule, experts: n, topK: layer.topK, groupScore: spec.groupScore, selection: spec.selection,
            renormalizationEpsilon: spec.renormalizationEpsilon)
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

    /// A NaN or infinity anywhere before the router (a NaN weight, rope_theta 0) reaches every logit after it;
    /// top-k over NaN picks the first experts, so counts and evaluations would be silently wrong. One pass over
    /// the logits catches it whatever its source.
    private func requireFinite(_ logits: [Float], weights: WeightReader) throws(MoESlimError) {
        guard logits.allSatisfy(\.isFinite) else {
            throw MoESlimError(
                .invalidData,
                "MoE layer \(layer.layer): the router's logits are NaN or infinite; a weight or a config value (such as rope_theta 0) makes the activations non-finite",
                path: weights.checkpoint.path)
        }
    }

    /// Each token's saliency term (gate weight × ‖expert output‖) and EAN term (‖expert output‖, which bounds its
    /// largest component) are summed exactly in Int128 units; a term that is not finite or beyond
    /// RoutingRecord.largestTerm comes only from broken weights and would trap or lie there.
    private func requireCountable(_ measured: ExpertOutputs, gateWeights: [Float], weights: WeightReader) throws(MoESlimError) {
        for (slot, gate) in gateWeights.enumerated() {
            let norm = measured.perGateWeight[slot]
            guard abs(gate * norm) < RoutingRecord.largestTerm, measured.norms[slot] < RoutingRecord.largestTerm else {
                throw MoESlimError(
                    .invalidData,
                    "MoE layer \(layer.layer): an expert's output has norm \(measured.norms[slot]) under gate weight \(gate), not finite or beyond 2^40; the expert weights are broken",
                    path: weights.checkpoint.path)
            }
        }
    }

    private func addShared(_ shared: SharedExpertSpec, _ x: [Float], rows: Int, weights: WeightReader, prefix: String, into output: inout [Float]) throws(MoESlimError) {
        let m = shared.mlp
        let y = Kernels.gatedMLP(
            x, rows: rows, gate: try weights.linear(prefix + m.prefix + m.gate), up: try weights.linear(prefix + m.prefix + m.up),
            down: try weights.linear(prefix + m.prefix + m.down), hidden: hidden, limit: spec.sharedLimits[layer.layer],
            activation: spec.activation)
        var gate = [Float](repeating: 1, count: rows)
        if let name = shared.gate {
            gate = Kernels.linear(x, rows: rows, weight: try weights.load(prefix + name, count: hidden), out: 1).map(Kernels.sigmoid)
        }
        for t in 0..<rows {
            for c in 0..<hidden { output[t * hidden + c] += gate[t] * y[t * hidden + c] }
        }
    }
}
