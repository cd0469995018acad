import Foundation
import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies

/// Turns a checkpoint and a plan into the pruned checkpoint's tensors and config, without touching data:
/// per-expert tensors of removed experts are dropped and the rest renumbered, fused expert tensors and router
/// tensors are sliced on their expert axis, everything else is copied byte for byte.
public struct PruneTransform {
    public let tensors: [OutputTensor]
    public let config: JSONValue
    public let plan: PruningPlan
    public let metadata: [(key: String, value: String)]
    /// Expert count per MoE layer after pruning.
    public let expertsPerLayer: [Int: Int]
    public let uniform: Bool

    public init(checkpoint: Checkpoint, model: ModelDescription, plan: PruningPlan) throws(MoESlimError) {
        try plan.validate(against: model, source: "plan")
        var renamed: [ByteName: String] = [:]
        var dropped = Set<ByteName>()
        var sliced: [ByteName: (axis: Int, kept: [Int])] = [:]
        var counts: [Int: Int] = [:]
        for layer in model.moeLayers {
            let kept = plan.keptExperts(layer: layer)
            counts[layer.layer] = kept.count
            guard kept.count != layer.numExperts else { continue }
            for r in layer.router { sliced[ByteName(r.name)] = (r.axis, kept) }
            switch layer.experts {
            case .separate(let prefix, let perExpert):
                let newIndex = Dictionary(uniqueKeysWithValues: kept.enumerated().map { ($1, $0) })
                for (e, names) in perExpert.enumerated() {
                    for name in names {
                        if let n = newIndex[e] {
                            renamed[ByteName(name)] = prefix + "\(n)." + name.dropBytes(prefix.utf8.count + "\(e).".utf8.count)
                        } else {
                            dropped.insert(ByteName(name))
                        }
                    }
                }
            case .fused(let fused):
                for f in fused { sliced[ByteName(f.name)] = (f.axis, kept) }
            }
        }
        var outputs: [OutputTensor] = []
        outputs.reserveCapacity(checkpoint.tensorCount)
        for name in checkpoint.names where !dropped.contains(ByteName(name)) {
            guard let loc = checkpoint.location(of: name) else { continue }
            let file = checkpoint.shards[loc.shard]
            if let cut = sliced[ByteName(name)] {
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
        self.config = try Self.rewriteConfig(checkpoint.requireConfig(), model: model, plan: plan, counts: counts, uniform: uniform)
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

    /// Only the expert-count key, top-k (when asked) and our own `moe_slim` section change; every other key
    /// keeps its position and literal text.
    static func rewriteConfig(
        _ config: JSONValue, model: ModelDescription, plan: PruningPlan, counts: [Int: Int], uniform: Bool
    ) throws(MoESlimError) -> JSONValue {
        var out = config
        // Every spelling present is rewritten (gpt-oss configs carry both experts_per_token and
        // num_experts_per_tok), so no stale alias contradicts the new value.
        for key in [model.expertCountKey] + ExpertKeys.countKeys where key == model.expertCountKey || config[key] != nil {
            out.set(key, .int(counts.values.max() ?? 0))
        }
        if let topK = plan.topK {
            for key in [model.topKKey] + ExpertKeys.topKKeys where key == model.topKKey || config[key] != nil {
                out.set(key, .int(topK))
            }
        }
        var section: [(key: String, value: JSONValue)] = []
        if case .object(let existing)? = config["moe_slim"] {
            section = existing.filter { !$0.key.sameBytes(as: "experts_per_layer") && !$0.key.sameBytes(as: "kept_experts") }
        }
        if !uniform {
            section.append(("experts_per_layer", .object(counts.sorted { $0.key < $1.key }.map { (String($0.key), .int($0.value)) })))
        }
        let previous = config["moe_slim"]?["kept_experts"]
        section.append(("kept_experts", composeKept(plan: plan, model: model, previous: previous)))
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
