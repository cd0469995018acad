import MoESlimSupport
import MoESlimFormats

extension FamilyLayout {
    /// Finds every MoE layer's tensors in the checkpoint and checks them against the config: expert counts,
    /// router rows, the same tensors for every expert. Disagreement is an error, never a guess. Names are read as
    /// bytes in place; only routers, fused and shared tensors are named in the outline.
    package func outline(modelType: String, config: JSONValue, checkpoint: Checkpoint) throws(MoESlimError) -> ModelOutline {
        let history = try PruneHistory(config, moeLayers: moeLayers, numExperts: numExperts, path: checkpoint.configPath)
        let prefixes = LayerPrefixes(moeLayers.map(moePrefix))
        var byLayer = [[NamedPosition]](repeating: [], count: moeLayers.count)
        var last: Int?
        checkpoint.forEachTensor { position, table, row in
            let name = table.nameBytes(at: row)
            guard let match = prefixes.match(name, last: last) else { return }
            byLayer[match].append(NamedPosition(position: position, name: name))
            last = match
        }
        // A router in a layer the config makes dense (first_k_dense_replace, mlp_only_layers, a sparse step...) means
        // config and tensors disagree: every command would treat the layer's experts as dense weights and prune
        // would copy them unpruned beside the new expert count.
        let moeIndices = Set(moeLayers)
        for layer in 0..<numLayers where !moeIndices.contains(layer) {
            if let stray = router.map({ moePrefix(layer) + $0.name }).first(where: checkpoint.contains) {
                throw MoESlimError(.invalidTensor, "is a router in layer \(layer), which the config makes a dense layer (it makes \(moeLayers.count) of the \(numLayers) layers MoE)", path: checkpoint.path, tensor: stray)
            }
        }
        var layers: [MoELayer] = []
        var expertTensors: [ModelOutline.ExpertTensors] = []
        for (layer, tensors) in zip(moeLayers, byLayer) {
            let experts = history.experts(layer)
            let zero = zeroComputeExperts?.count ?? 0
            guard experts - zero >= 1 else {
                throw MoESlimError(.invalidConfig, "\(expertCountKey) is \(experts - zero); MoE layer \(layer) needs at least 1 expert with weights", path: checkpoint.configPath)
            }
            guard (1...experts).contains(topK) else {
                throw MoESlimError(.invalidConfig, "\(topKKey) is \(topK); it must be between 1 and the \(experts) experts of MoE layer \(layer)", path: checkpoint.configPath)
            }
            let (described, own) = try describeLayer(
                layer, prefix: moePrefix(layer), numExperts: experts, zeroCompute: zero, tensors: tensors, checkpoint: checkpoint)
            layers.append(described)
            expertTensors.append(own)
        }
        let lmHead: String? = checkpoint.contains(lmHeadTensor) ? lmHeadTensor : nil
        guard checkpoint.contains(embedTensor) else {
            throw MoESlimError(.invalidTensor, "the embedding tensor is missing", path: checkpoint.path, tensor: embedTensor)
        }
        var model = ModelDescription(
            modelType: modelType, numLayers: numLayers, hiddenSize: hiddenSize, vocabSize: vocabSize,
            attention: attention, tiedEmbeddings: tiedEmbeddings || lmHead == nil, moeLayers: layers,
            expertCountKey: expertCountKey, topKKey: topKKey, zeroComputeKey: zeroComputeExperts?.configKey, routing: routing,
            embedTensor: embedTensor, lmHeadTensor: lmHead,
            buffers: Set(moeLayers.flatMap { layer in buffers.map { moePrefix(layer) + $0 } }.filter(checkpoint.contains).map { ByteName($0) }),
            layersPrefix: names.layersPrefix)
        if let mtp = multiTokenPrediction {
            let tensors = checkpoint.names.reduce(0) { count, name in count + (mtp.prefixes.contains { name.hasBytePrefix($0) } ? 1 : 0) }
            if tensors > 0 { model.multiTokenPrediction = MultiTokenPrediction(prefixes: mtp.prefixes, configKey: mtp.configKey, tensors: tensors) }
        }
        return ModelOutline(model: model, experts: expertTensors)
    }

    /// The layer with its per-expert lists left empty, and those lists as positions, each in name order. The
    /// router has a row for every expert; tensors exist only for the `numExperts - zeroCompute` with weights.
    private func describeLayer(
        _ layer: Int, prefix: String, numExperts: Int, zeroCompute: Int, tensors: [NamedPosition], checkpoint: Checkpoint
    ) throws(MoESlimError) -> (MoELayer, ModelOutline.ExpertTensors) {
        let weighted = numExperts - zeroCompute
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
        var owned: [(expert: Int, tensor: NamedPosition)] = []
        owned.reserveCapacity(tensors.count)
        var fused: [SlicedTensor] = []
        var shared: [String] = []
        let places = ExpertPlaces(self, prefix: prefix)
        for tensor in tensors {
            switch places.place(of: tensor.name) {
            case .expert(let e):
                guard e < weighted else {
                    let config = zeroCompute == 0 ? "\(numExperts) experts" : "\(weighted) experts with weights and \(zeroCompute) zero-compute experts without"
                    throw fail("expert \(e) is out of range (config: \(config))", tensor: String(decoding: tensor.name, as: UTF8.self))
                }
                owned.append((e, tensor))
            case .fused:
                let full = String(decoding: tensor.name, as: UTF8.self)
                guard zeroCompute == 0 else { throw fail("has fused expert tensors, which a family with zero-compute experts does not store", tensor: full) }
                try checkAxis(full, axis: 0)
                fused.append(SlicedTensor(name: full, axis: 0))
            case .shared:
                shared.append(String(decoding: tensor.name, as: UTF8.self))
            case .other:
                break
            }
        }
        if !owned.isEmpty && !fused.isEmpty { throw fail("has both per-expert and fused expert tensors") }
        let storage: MoELayer.ExpertStorage
        var experts = ModelOutline.ExpertTensors()
        if !owned.isEmpty {
            let (grouped, starts) = Self.byExpert(owned, count: weighted)
            let reference = Array(grouped[starts[0] ..< starts[1]])
            let order = reference.indices.sorted { reference[$0].name.compareBytes(reference[$1].name) < 0 }
            experts.positions.reserveCapacity(grouped.count)
            for e in 0..<weighted {
                let own = grouped[starts[e] ..< starts[e + 1]]
                if places.isLike(own, expert: e, reference: reference) {
                    experts.positions.append(contentsOf: order.lazy.map { own[own.startIndex + $0].position })
                } else {
                    let sorted = own.sorted { $0.name.compareBytes($1.name) < 0 }
                    let (mine, expected) = (places.suffixes(sorted, expert: e), places.suffixes(reference, expert: 0))
                    guard mine.elementsEqual(expected, by: { $0.utf8.elementsEqual($1.utf8) }) else {
                        throw fail(own.isEmpty ? "expert \(e) has no tensors" : "expert \(e) has tensors \(mine), expert 0 has \(expected)")
                    }
                    experts.positions.append(contentsOf: sorted.lazy.map(\.position))
                }
                experts.starts.append(experts.positions.count)
            }
            storage = .separate(prefix: prefix + expertsPath, perExpert: [])
        } else if !fused.isEmpty {
            storage = .fused(fused.sorted { $0.name.utf8Precedes($1.name) })
        } else {
            throw fail("no expert tensors found under '\(prefix)'")
        }
        let described = MoELayer(layer: layer, numExperts: numExperts, topK: topK, router: router, experts: storage,
                                 shared: shared.sorted { $0.utf8Precedes($1) }, zeroComputeExperts: zeroCompute)
        return (described, experts)
    }

    /// The tensors grouped by expert (a counting sort, so each expert's keep their checkpoint order), with
    /// where each expert's run starts; one array for the layer rather than one per expert.
    private static func byExpert(_ owned: [(expert: Int, tensor: NamedPosition)], count: Int) -> ([NamedPosition], [Int]) {
        var starts = [Int](repeating: 0, count: count + 1)
        for (e, _) in owned { starts[e + 1] += 1 }
        for e in 0..<count { starts[e + 1] += starts[e] }
        var next = starts
        var slots = [Int](repeating: 0, count: owned.count)
        for (i, (e, _)) in owned.enumerated() {
            slots[next[e]] = i
            next[e] += 1
        }
        return (slots.map { owned[$0].tensor }, starts)
    }
}
