import Foundation
import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies

/// Turns a checkpoint and a plan into the pruned checkpoint's tensors and config, without touching data:
/// per-expert tensors of removed experts are dropped and the rest renumbered, fused expert tensors and router
/// tensors are sliced on their expert axis, everything else is copied byte for byte. With an `ExpertMerge`, a kept
/// expert that removed experts were folded into is computed from its group instead of copied.
public struct PruneTransform {
    public let tensors: [OutputTensor]
    public let config: JSONValue
    public let plan: PruningPlan
    public let metadata: [(key: String, value: String)]
    /// Expert count per MoE layer after pruning.
    public let expertsPerLayer: [Int: Int]
    public let uniform: Bool

    /// What becomes of a multi-token-prediction block, whose experts no plan covers.
    public enum MultiTokenPredictionChoice: Sendable {
        /// A plan that removes experts is refused: the block would keep the old expert count.
        case refuse
        /// Its tensors are left out and its layer count in the config set to 0 (`prune --drop-mtp`).
        case drop
        /// Kept as it is, for size estimates of plans that are never written (sweep).
        case keepForSizing
    }

    public init(
        checkpoint: Checkpoint, model: ModelDescription, plan: PruningPlan, multiTokenPrediction: MultiTokenPredictionChoice = .refuse,
        merge: ExpertMerge? = nil
    ) throws(MoESlimError) {
        try plan.validate(against: model, source: "plan")
        var renamed: [ByteName: String] = [:]
        var dropped = Set<ByteName>()
        let mtp = model.multiTokenPrediction
        if let mtp, multiTokenPrediction == .refuse, model.moeLayers.contains(where: { plan.keptExperts(layer: $0).count != $0.numExperts }) {
            throw MoESlimError(
                .invalidArgument,
                "the checkpoint has a multi-token-prediction block (\(mtp.tensors) tensors under \(mtp.prefixes.map { "'\($0)'" }.joined(separator: ", "))) with experts of its own, which this plan does not cover; pass --drop-mtp to leave it out (\(mtp.configKey) becomes 0)",
                path: checkpoint.path)
        }
        if let mtp, multiTokenPrediction == .drop {
            for name in checkpoint.names where mtp.prefixes.contains(where: { name.hasBytePrefix($0) }) { dropped.insert(ByteName(name)) }
        }
        var sliced: [ByteName: (axis: Int, kept: [Int])] = [:]
        var mergedSeparate: [ByteName: (group: ExpertMerge.Group, sources: [String])] = [:]
        var mergedFused: [ByteName: (axis: Int, groups: [ExpertMerge.Group])] = [:]
        var counts: [Int: Int] = [:]
        for layer in model.moeLayers {
            let kept = plan.keptExperts(layer: layer)
            counts[layer.layer] = kept.count
            guard kept.count != layer.numExperts else { continue }
            for r in layer.router { sliced[ByteName(r.name)] = (r.axis, kept) }
            let groups = merge?.groups[layer.layer]
            switch layer.experts {
            case .separate(let prefix, let perExpert):
                let newIndex = Dictionary(uniqueKeysWithValues: kept.enumerated().map { ($1, $0) })
                for (e, names) in perExpert.enumerated() {
                    for (j, name) in names.enumerated() {
                        if let n = newIndex[e] {
                            renamed[ByteName(name)] = prefix + "\(n)." + name.dropBytes(prefix.utf8.count + "\(e).".utf8.count)
                            if let group = groups?[n], !group.isAlone {
                                mergedSeparate[ByteName(name)] = (group, try group.members.map { m throws(MoESlimError) in
                                    guard j < perExpert[m].count else {
                                        throw MoESlimError(.invalidTensor, "expert \(m) of layer \(layer.layer) has fewer tensors than expert \(e), so they cannot be merged", path: checkpoint.path, tensor: name)
                                    }
                                    return perExpert[m][j]
                                })
                            }
                        } else {
                            dropped.insert(ByteName(name))
                        }
                    }
                }
            case .fused(let fused):
                for f in fused {
                    sliced[ByteName(f.name)] = (f.axis, kept)
                    if let groups, groups.contains(where: { !$0.isAlone }) { mergedFused[ByteName(f.name)] = (f.axis, groups) }
                }
            }
        }
        // Sweep sizes plans it never writes: what would make a written quantized checkpoint wrong does not apply.
        let written = multiTokenPrediction != .keepForSizing
        if written { try QuantizedRouters.refuse(checkpoint, model: model, sliced: Set(sliced.keys)) }
        var outputs: [OutputTensor] = []
        outputs.reserveCapacity(checkpoint.tensorCount)
        for name in checkpoint.names where !dropped.contains(ByteName(name)) {
            guard let loc = checkpoint.location(of: name) else { continue }
            let file = checkpoint.shards[loc.shard]
            if let folded = mergedSeparate[ByteName(name)] {
                outputs.append(try ExpertMerge.mergedTensor(checkpoint, name: renamed[ByteName(name)] ?? name, group: folded.group, sources: folded.sources))
            } else if let folded = mergedFused[ByteName(name)] {
                outputs.append(try ExpertMerge.mergedFusedTensor(checkpoint, name: name, axis: folded.axis, groups: folded.groups))
            } else if let cut = sliced[ByteName(name)] {
                let (shape, ranges) = try ExpertSlicer.ranges(
                    of: loc.info, fileOffset: file.fileOffset(of: loc.info), axis: cut.axis, kept: cut.kept, path: file.path)
                outputs.append(OutputTensor(name: name, dtype: loc.info.dtype, shape: shape, source: .ranges(file, ranges), shardHint: loc.shard))
            } else if let copy = OutputTensor.copy(name, from: checkpoint, as: renamed[ByteName(name)]) {
                outputs.append(copy)
            }
        }
        let uniform = Set(counts.values).count <= 1
        self.tensors = outputs
        self.plan = plan
        self.expertsPerLayer = counts
        self.uniform = uniform
        let config = try Self.rewriteConfig(
            checkpoint.requireConfig(), model: model, plan: plan, counts: counts, uniform: uniform,
            droppedMultiTokenPrediction: multiTokenPrediction == .drop ? mtp : nil, merge: merge)
        self.config = written ? try QuantizedModules.rewritten(config, model: model, plan: plan, path: checkpoint.configPath) : config
        let keptJSON = Self.composeKept(plan: plan, model: model, previous: checkpoint.config?["moe_slim"]?["kept_experts"])
            .serialized(indent: nil)
        var meta = checkpoint.shards.first?.header.metadata ?? []
        meta.removeAll { $0.key.sameBytes(as: "moe_slim.kept_experts") || $0.key.sameBytes(as: "moe_slim.version") }
        meta.append(("moe_slim.version", MoESlimVersion.string))
        meta.append(("moe_slim.kept_experts", keptJSON))
        self.metadata = meta
    }

    /// The pruned model as the family files would describe it, for reporting a plan before writing it.
    public func prunedDescription(_ model: ModelDescription) -> ModelDescription {
        var out = model
        out.moeLayers = model.moeLayers.map { layer in
            var l = layer
            let kept = plan.keptExperts(layer: layer)
            l.numExperts = kept.count
            l.zeroComputeExperts = plan.keptSplit(layer: layer).zeroCompute
            if let topK = plan.topK { l.topK = topK }
            if case .separate(let prefix, let perExpert) = layer.experts {
                l.experts = .separate(prefix: prefix, perExpert: kept.enumerated().map { n, e in
                    perExpert[e].map { prefix + "\(n)." + $0.dropBytes(prefix.utf8.count + "\(e).".utf8.count) }
                })
            }
            return l
        }
        return out
    }

    public var tensorShapes: [(name: String, dtype: DType, shape: [Int])] { tensors.map { ($0.name, $0.dtype, $0.shape) } }

    /// Only the expert-count key (and the zero-compute count), top-k (when asked) and our own `moe_slim` section change (and, in
    /// `QuantizedModules`, the expert numbers in quantization_config's module lists); every other key keeps its
    /// position and literal text.
    static func rewriteConfig(
        _ config: JSONValue, model: ModelDescription, plan: PruningPlan, counts: [Int: Int], uniform: Bool,
        droppedMultiTokenPrediction: MultiTokenPrediction? = nil, merge: ExpertMerge? = nil
    ) throws(MoESlimError) -> JSONValue {
        var out = config
        // The expert keys live in the language model's section of a wrapper's config (text_config).
        let keys = model.configSection.flatMap { config[$0] } ?? config
        var rewritten = keys
        // Every spelling present is rewritten (gpt-oss configs carry both experts_per_token and
        // num_experts_per_tok), so no stale alias contradicts the new value.
        // With zero-compute experts the expert-count key counts those with weights, and the family's own key the
        // rest (the plan keeps the same number of each in every layer).
        let splits = model.moeLayers.map(plan.keptSplit(layer:))
        let weighted = model.zeroComputeKey == nil ? counts.values.max() : splits.map(\.weighted).max()
        for key in [model.expertCountKey] + ExpertKeys.countKeys where key == model.expertCountKey || keys[key] != nil {
            rewritten.set(key, .int(weighted ?? 0))
        }
        if let key = model.zeroComputeKey { rewritten.set(key, .int(splits.map(\.zeroCompute).max() ?? 0)) }
        if let topK = plan.topK {
            for key in [model.topKKey] + ExpertKeys.topKKeys where key == model.topKKey || keys[key] != nil {
                rewritten.set(key, .int(topK))
            }
        }
        if let mtp = droppedMultiTokenPrediction { rewritten.set(mtp.configKey, .int(0)) }
        if let section = model.configSection { out.set(section, rewritten) } else { out = rewritten }
        var section: [(key: String, value: JSONValue)] = []
        if case .object(let existing)? = config["moe_slim"] {
            section = existing.filter {
                !$0.key.sameBytes(as: "experts_per_layer") && !$0.key.sameBytes(as: "kept_experts") && !$0.key.sameBytes(as: "merged_experts")
                    && !$0.key.sameBytes(as: "merge_similarity")
            }
        }
        if !uniform {
            section.append(("experts_per_layer", .object(counts.sorted { $0.key < $1.key }.map { (String($0.key), .int($0.value)) })))
        }
        let previous = config["moe_slim"]?["kept_experts"]
        section.append(("kept_experts", composeKept(plan: plan, model: model, previous: previous)))
        if let merge {
            section.append(("merged_experts", merge.json))
            section.append(("merge_similarity", .string(merge.similarity.rawValue)))
        }
        out.set("moe_slim", .object(section))
        return out
    }

    /// Kept ids in terms of the original model, so a model pruned twice still traces back to the first one.
    static func composeKept(plan: PruningPlan, model: ModelDescription, previous: JSONValue?) -> JSONValue {
        .object(model.moeLayers.map { layer in
            var ids = plan.keptExperts(layer: layer)
            if let before = previous?[String(layer.layer)]?.arrayValue?.compactMap(\.intValue), before.count == layer.numExperts {
                ids = ids.map { before[$0] }
            }
            return (String(layer.layer), .array(ids.map { .int($0) }))
        })
    }
}
