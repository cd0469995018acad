import Foundation
import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies
import MoESlimEngine

/// Merging instead of dropping (formats/merge.md): every expert a plan removes is folded into the kept expert of
/// the same layer most similar to it (cosine of their mean outputs on the calibration tokens, as HC-SMoE, or of
/// their router rows), and each kept expert's weights become the average of its group weighted by the hard
/// counts, as M-SMoE and HC-SMoE merge. The router keeps the kept
/// experts' rows unchanged; the removed rows go, exactly as when pruning drops experts, so the merged checkpoint
/// has the pruned checkpoint's shapes and loads wherever it does.
public struct ExpertMerge: Sendable, Equatable {
    /// One kept expert and the experts folded into it.
    public struct Group: Sendable, Equatable {
        /// Original ids, ascending: the kept expert and the removed experts assigned to it.
        public var members: [Int]
        /// One f32 coefficient per member: its hard count over the group's total (rounded once from f64), or
        /// 1 for the kept expert and 0 for the others when no member was ever routed to.
        public var coefficients: [Float]

        public var isAlone: Bool { members.count == 1 }
    }

    /// What "most similar" compares.
    public enum Similarity: String, CaseIterable, Sendable {
        /// The experts' mean outputs over the tokens routed to them, as the counts' `output_sketch` holds them
        /// (HC-SMoE's criterion, on routed tokens): experts that add the same thing to a token.
        case output
        /// The experts' router weight rows (M-SMoE's router-logit similarity, from the weights alone): experts the
        /// router scores alike for the same inputs.
        case router

        /// Which one a merge used, for the note prune and sweep print.
        public var note: String {
            switch self {
            case .output: "merging by output similarity (cosine of the experts' mean outputs, the counts' output_sketch)"
            case .router: "merging by router similarity (cosine of the experts' router weight rows)"
            }
        }
    }

    /// Per MoE layer index, one group per kept expert in kept (= renumbered) order. Layers the plan leaves whole
    /// are absent.
    public var groups: [Int: [Group]]
    /// What the groups were formed by.
    public var similarity: Similarity

    public init(groups: [Int: [Group]], similarity: Similarity = .router) {
        self.groups = groups
        self.similarity = similarity
    }

    /// `output` when every layer of the counts has `output_sketch` (calibrate writes it since issue 17), else
    /// `router`: counts from an older calibrate still merge, as before.
    public static func defaultSimilarity(_ counts: ExpertCounts) -> Similarity {
        counts.layers.allSatisfy { !$0.sums[.outputSketch].isEmpty } ? .output : .router
    }

    /// Assigns every removed expert to its most similar kept expert and weights each group by hard counts.
    /// `similarity` nil: `defaultSimilarity`.
    public init(
        checkpoint: Checkpoint, model: ModelDescription, plan: PruningPlan, counts: ExpertCounts, countsPath: String,
        similarity: Similarity? = nil
    ) throws(MoESlimError) {
        try counts.check(against: model, path: countsPath)
        let similarity = similarity ?? Self.defaultSimilarity(counts)
        var groups: [Int: [Group]] = [:]
        for layer in model.moeLayers {
            let kept = plan.keptExperts(layer: layer)
            guard kept.count != layer.numExperts else { continue }
            guard layer.zeroComputeExperts == 0 else {
                throw MoESlimError(.unsupportedModel, "merging averages expert weights, and layer \(layer.layer)'s \(layer.zeroComputeExperts) zero-compute experts have none; prune without --merge")
            }
            guard let hard = counts.layer(layer.layer)?.hard, hard.count == layer.numExperts else {
                throw MoESlimError(.invalidCounts, "no counts for MoE layer \(layer.layer) with \(layer.numExperts) experts", path: countsPath)
            }
            let rows = switch similarity {
            case .router: try Self.routerRows(checkpoint, layer: layer)
            case .output: try Self.outputRows(counts.layer(for: layer, path: countsPath), path: countsPath)
            }
            var members = kept.map { [$0] }
            for removed in 0..<layer.numExperts where !kept.contains(removed) {
                members[Self.mostSimilar(rows[removed], among: kept.map { rows[$0] })].append(removed)
            }
            groups[layer.layer] = members.map { Self.group($0.sorted(), keptExpert: $0[0], hard: hard) }
        }
        self.groups = groups
        self.similarity = similarity
    }

    /// Each expert's summed output sketch: the cosine of two sums is the cosine of the two mean outputs, and the
    /// projection keeps cosines to about ±1/√64 (formats/counts.md, `output_sketch`).
    static func outputRows(_ layer: ExpertCounts.Layer, path: String) throws(MoESlimError) -> [[Double]] {
        let sketch = layer.sums[.outputSketch], width = OutputSketch.width
        guard sketch.count == layer.experts * width else {
            throw MoESlimError(.invalidCounts, "the counts have no output_sketch (written by an older calibrate); re-run calibrate to merge by output similarity, or pass --merge-similarity router", path: path)
        }
        return (0..<layer.experts).map { e in Array(sketch[(e * width)..<((e + 1) * width)]) }
    }

    /// The index (into `candidates`) of the highest cosine similarity with `row`; ties, and rows of zero norm,
    /// go to the first candidate, which is the lowest kept id.
    static func mostSimilar(_ row: [Double], among candidates: [[Double]]) -> Int {
        var best = 0
        var bestCosine = -Double.infinity
        for (i, c) in candidates.enumerated() {
            let cosine = Self.cosine(row, c)
            if cosine > bestCosine {
                best = i
                bestCosine = cosine
            }
        }
        return best
    }

    /// Σ a·b / (‖a‖ ‖b‖) in f64, summed in index order; 0 when either row is zero.
    static func cosine(_ a: [Double], _ b: [Double]) -> Double {
        var dot = 0.0, aa = 0.0, bb = 0.0
        for i in a.indices {
            dot += a[i] * b[i]
            aa += a[i] * a[i]
            bb += b[i] * b[i]
        }
        guard aa > 0, bb > 0 else { return 0 }
        return dot / (aa.squareRoot() * bb.squareRoot())
    }

    static func group(_ members: [Int], keptExpert: Int, hard: [Double]) -> Group {
        let total = members.reduce(0.0) { $0 + hard[$1] }
        let coefficients: [Float] = members.map { e in
            total > 0 ? Float(hard[e] / total) : (e == keptExpert ? 1 : 0)
        }
        return Group(members: members, coefficients: coefficients)
    }

    /// The router weight's row of every expert, widened to f64: the rank-2 router tensor, sliced on its expert axis.
    static func routerRows(_ checkpoint: Checkpoint, layer: MoELayer) throws(MoESlimError) -> [[Double]] {
        guard let weight = layer.router.first(where: { checkpoint.info($0.name)?.shape.count == 2 }),
              let loc = checkpoint.location(of: weight.name) else {
            throw MoESlimError(.unsupportedModel, "--merge compares router rows, and layer \(layer.layer) has no 2-D router weight", path: checkpoint.path)
        }
        let info = loc.info
        guard TensorElements.supports(info.dtype) else {
            throw MoESlimError(.invalidTensor, "--merge reads F32, BF16 and F16 router weights, not \(info.dtype.rawValue)", path: checkpoint.path, tensor: weight.name)
        }
        let values = TensorElements.floats(checkpoint.shards[loc.shard].bytes(of: info), dtype: info.dtype)
        let experts = info.shape[weight.axis]
        let width = info.shape[1 - weight.axis]
        return (0..<experts).map { e in
            (0..<width).map { i in Double(weight.axis == 0 ? values[e * width + i] : values[i * experts + e]) }
        }
    }

    /// Σ coefficient × member, in member order, each product rounded to f32 and then added in f32 (no fused
    /// multiply-add), over one slice of `count` elements per member read by `slice`.
    static func average(_ group: Group, count: Int, slice: (Int) -> [Float]) -> [Float] {
        var sum = [Float](repeating: 0, count: count)
        for (member, coefficient) in zip(group.members, group.coefficients) {
            let values = slice(member)
            for i in 0..<count {
                let product = coefficient * values[i]
                sum[i] = sum[i] + product
            }
        }
        return sum
    }
}

extension ExpertMerge {
    /// `{"<layer>": {"<new expert>": [original ids merged into it]}}` for config.json's `moe_slim.merged_experts`,
    /// listing only the kept experts that absorbed others.
    public var json: JSONValue {
        .object(groups.sorted { $0.key < $1.key }.map { layer, groups in
            (String(layer), .object(groups.enumerated().filter { !$0.element.isAlone }.map { n, group in
                (String(n), .array(group.members.map { .int($0) }))
            }))
        })
    }

    /// A kept expert's tensor (stored separately per expert) computed from the same tensor of every member of
    /// its group, which must agree on dtype and shape. Written in the stored dtype.
    static func mergedTensor(_ checkpoint: Checkpoint, name: String, group: Group, sources: [String]) throws(MoESlimError) -> OutputTensor {
        var places: [(SafeTensorsFile, TensorInfo)] = []
        for source in sources {
            guard let loc = checkpoint.location(of: source) else {
                throw MoESlimError(.invalidTensor, "--merge needs this expert tensor, which is missing", path: checkpoint.path, tensor: source)
            }
            places.append((checkpoint.shards[loc.shard], loc.info))
        }
        let members = places
        let first = places[0].1
        try checkMergeable(first, path: checkpoint.path)
        for (_, info) in places where info.dtype != first.dtype || info.shape != first.shape {
            throw MoESlimError(.invalidTensor, "is \(info.dtype.rawValue) \(info.shape) but \(first.name) is \(first.dtype.rawValue) \(first.shape); experts of different shapes cannot be merged", path: checkpoint.path, tensor: info.name)
        }
        let count = first.elementCount
        let shardHint = checkpoint.location(of: sources[0])?.shard ?? 0
        return OutputTensor(name: name, dtype: first.dtype, shape: first.shape, source: .produce { buffer in
            let values = average(group, count: count) { member in
                let (file, info) = members[group.members.firstIndex(of: member)!]
                defer { file.release(info) }
                return TensorElements.floats(file.bytes(of: info), dtype: info.dtype)
            }
            TensorElements.store(values, into: buffer, dtype: first.dtype)
        }, shardHint: shardHint)
    }

    /// A fused expert tensor (one slice per expert on `axis`) cut to the kept experts, each kept slice the
    /// weighted average of its group's slices.
    static func mergedFusedTensor(_ checkpoint: Checkpoint, name: String, axis: Int, groups: [Group]) throws(MoESlimError) -> OutputTensor {
        guard let loc = checkpoint.location(of: name) else {
            throw MoESlimError(.invalidTensor, "--merge needs this expert tensor, which is missing", path: checkpoint.path, tensor: name)
        }
        let info = loc.info
        try checkMergeable(info, path: checkpoint.path)
        let file = checkpoint.shards[loc.shard]
        let outer = info.shape[..<axis].reduce(1, *)
        let experts = info.shape[axis]
        let inner = info.shape[(axis + 1)...].reduce(1, *)
        var shape = info.shape
        shape[axis] = groups.count
        return OutputTensor(name: name, dtype: info.dtype, shape: shape, source: .produce { buffer in
            let values = TensorElements.floats(file.bytes(of: info), dtype: info.dtype)
            defer { file.release(info) }
            var out = [Float](repeating: 0, count: outer * groups.count * inner)
            for o in 0..<outer {
                for (n, group) in groups.enumerated() {
                    let merged = average(group, count: inner) { member in
                        let start = (o * experts + member) * inner
                        return Array(values[start..<(start + inner)])
                    }
                    let target = (o * groups.count + n) * inner
                    out.replaceSubrange(target..<(target + inner), with: merged)
                }
            }
            TensorElements.store(out, into: buffer, dtype: info.dtype)
        }, shardHint: loc.shard)
    }

    private static func checkMergeable(_ info: TensorInfo, path: String) throws(MoESlimError) {
        guard TensorElements.supports(info.dtype) else {
            throw MoESlimError(.invalidTensor, "--merge averages F32, BF16 and F16 expert weights, not \(info.dtype.rawValue); drop the experts instead (prune without --merge)", path: path, tensor: info.name)
        }
    }
}
