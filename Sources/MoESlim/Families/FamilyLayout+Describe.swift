extension FamilyLayout {
    /// Finds every MoE layer's tensors in the checkpoint and checks them against the config: expert counts,
    /// router rows, the same tensors for every expert. Disagreement is an error, never a guess.
    func describe(modelType: String, config: JSONValue, checkpoint: Checkpoint) throws(MoESlimError) -> ModelDescription {
        let perLayerCounts = try Self.prunedExpertCounts(config, path: checkpoint.configPath)
        let prefixes = Dictionary(uniqueKeysWithValues: moeLayers.map { (Substring(moePrefix($0)), $0) })
        let prefixLengths = Set(prefixes.keys.map(\.utf8.count))
        var byLayer: [Int: [String]] = [:]
        for name in checkpoint.names {
            let utf8 = name.utf8
            for length in prefixLengths where length < utf8.count {
                let end = utf8.index(utf8.startIndex, offsetBy: length)
                if let layer = prefixes[name[..<end]] {
                    byLayer[layer, default: []].append(name)
                    break
                }
            }
        }
        var layers: [MoELayer] = []
        for layer in moeLayers {
            let prefix = moePrefix(layer)
            let experts = perLayerCounts[layer] ?? numExperts
            let local = byLayer[layer] ?? []
            layers.append(try describeLayer(layer, prefix: prefix, numExperts: experts, names: local, checkpoint: checkpoint))
        }
        let lmHead: String? = checkpoint.contains(lmHeadTensor) ? lmHeadTensor : nil
        guard checkpoint.contains(embedTensor) else {
            throw MoESlimError(.invalidTensor, "the embedding tensor is missing", path: checkpoint.path, tensor: embedTensor)
        }
        return ModelDescription(
            modelType: modelType, numLayers: numLayers, hiddenSize: hiddenSize, vocabSize: vocabSize,
            attention: attention, tiedEmbeddings: tiedEmbeddings || lmHead == nil, moeLayers: layers,
            expertCountKey: expertCountKey, topKKey: topKKey, routing: routing,
            embedTensor: embedTensor, lmHeadTensor: lmHead,
            buffers: Set(moeLayers.flatMap { layer in buffers.map { moePrefix(layer) + $0 } }.filter(checkpoint.contains)))
    }

    private func describeLayer(
        _ layer: Int, prefix: String, numExperts: Int, names: [String], checkpoint: Checkpoint
    ) throws(MoESlimError) -> MoELayer {
        func fail(_ message: String, tensor: String? = nil) -> MoESlimError {
            MoESlimError(.invalidTensor, "MoE layer \(layer): \(message)", path: checkpoint.path, tensor: tensor)
        }
        func checkAxis(_ name: String, axis: Int) throws(MoESlimError) {
            guard let info = checkpoint.info(name) else { throw fail("tensor is missing", tensor: name) }
            guard axis < info.shape.count else { throw fail("has no expert axis \(axis) (shape \(info.shape))", tensor: name) }
            guard info.shape[axis] == numExperts else {
                throw fail("has \(info.shape[axis]) experts on axis \(axis) but the config says \(numExperts)", tensor: name)
            }
        }
        var router: [SlicedTensor] = []
        for r in self.router {
            let full = prefix + r.name
            if checkpoint.contains(full) {
                try checkAxis(full, axis: r.axis)
                router.append(SlicedTensor(name: full, axis: r.axis))
            } else if r.required {
                throw fail("router tensor is missing", tensor: full)
            }
        }
        var perExpert = [[String]](repeating: [], count: numExperts)
        var fused: [SlicedTensor] = []
        var shared: [String] = []
        for full in names {
            let rel = full[full.utf8.index(full.startIndex, offsetBy: prefix.utf8.count)...]
            if rel.hasPrefix(expertsPath) {
                let rest = rel.dropFirst(expertsPath.count)
                let head = rest.prefix { $0 != "." }
                if let e = Int(head), head.allSatisfy(\.isNumber) {
                    guard e < numExperts else { throw fail("expert \(e) is out of range (config: \(numExperts) experts)", tensor: full) }
                    perExpert[e].append(full)
                } else {
                    try checkAxis(full, axis: 0)
                    fused.append(SlicedTensor(name: full, axis: 0))
                }
            } else if fusedExpertNames.contains(where: { rel.hasPrefix($0) }) {
                try checkAxis(full, axis: 0)
                fused.append(SlicedTensor(name: full, axis: 0))
            } else if sharedPaths.contains(where: { rel.hasPrefix($0) }) {
                shared.append(full)
            }
        }
        let separate = perExpert.contains { !$0.isEmpty }
        if separate && !fused.isEmpty { throw fail("has both per-expert and fused expert tensors") }
        let storage: MoELayer.ExpertStorage
        if separate {
            let marker = prefix + expertsPath
            func suffixes(_ e: Int) -> [String] {
                let skip = marker.utf8.count + String(e).utf8.count + 1
                return perExpert[e].map { String($0[$0.utf8.index($0.startIndex, offsetBy: skip)...]) }.sorted()
            }
            let reference = suffixes(0)
            for e in 0..<numExperts where suffixes(e) != reference {
                throw fail(perExpert[e].isEmpty ? "expert \(e) has no tensors" : "expert \(e) has tensors \(suffixes(e)), expert 0 has \(reference)")
            }
            storage = .separate(prefix: marker, perExpert: perExpert.map { $0.sorted() })
        } else if !fused.isEmpty {
            storage = .fused(fused.sorted { $0.name < $1.name })
        } else {
            throw fail("no expert tensors found under '\(prefix)'")
        }
        return MoELayer(layer: layer, numExperts: numExperts, topK: topK, router: router, experts: storage, shared: shared.sorted())
    }

    /// A globally pruned model has a different expert count per layer, recorded by prune in config.json.
    static func prunedExpertCounts(_ config: JSONValue, path: String) throws(MoESlimError) -> [Int: Int] {
        guard let entries = config["moe_slim"]?["experts_per_layer"] else { return [:] }
        guard let members = entries.objectMembers else {
            throw MoESlimError(.invalidConfig, "moe_slim.experts_per_layer is not an object", path: path)
        }
        var counts: [Int: Int] = [:]
        for (key, value) in members {
            guard let layer = Int(key), let n = value.intValue, (1...ConfigLimits.maxExperts).contains(n) else {
                throw MoESlimError(.invalidConfig, "moe_slim.experts_per_layer has a bad entry '\(key)'", path: path)
            }
            counts[layer] = n
        }
        return counts
    }
}
