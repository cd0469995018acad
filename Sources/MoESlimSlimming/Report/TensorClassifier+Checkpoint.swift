import MoESlimFormats
import MoESlimFamilies

extension TensorClassifier {
    /// Which tensors `classify` would name, and how, ranked so that the later assignment in `classify` wins;
    /// left out beats everything.
    private enum Rank: Int, Comparable {
        case router, expert, shared, embed, head, leftOut

        static func < (a: Rank, b: Rank) -> Bool { a.rawValue < b.rawValue }
    }

    /// The same sorting for every tensor of a checkpoint, in one pass over the shards' tables: `body` gets each
    /// tensor's table and row with its component and MoE layer, except the tensors the report leaves out
    /// (buffers, a tied lm_head). Per-expert tensors are where the outline found them, by position; the few
    /// other described tensors are looked up by name, and the rest sorted by name.
    static func forEachTensor(
        of checkpoint: Checkpoint, _ outline: ModelOutline, _ body: (TensorTable, Int, Component, Int?) -> Void
    ) {
        let model = outline.model
        /// For each tensor, 1 + the index in `model.moeLayers` of the layer it is an expert tensor of, or 0.
        var expertOf = [Int32](repeating: 0, count: checkpoint.tensorCount)
        for (i, experts) in outline.experts.enumerated() {
            for position in experts.positions { expertOf[position] = Int32(i + 1) }
        }
        var named: [Int: (rank: Rank, component: Component, layer: Int?)] = [:]
        func assign(_ name: String, _ rank: Rank, _ component: Component, layer: Int? = nil) {
            guard let i = checkpoint.index(of: name), (named[i]?.rank).map({ $0 <= rank }) ?? true else { return }
            named[i] = (rank, component, layer)
        }
        for layer in model.moeLayers {
            for r in layer.router { assign(r.name, .router, .moeGating) }
            if case .fused(let tensors) = layer.experts {
                for t in tensors { assign(t.name, .expert, .moeFeedForward, layer: layer.layer) }
            }
            for name in layer.shared { assign(name, .shared, .sharedExperts) }
        }
        assign(model.embedTensor, .embed, .embed)
        if let head = model.lmHeadTensor { assign(head, .head, .deEmbed) }
        for name in model.buffers { assign(name.string, .leftOut, .other) }
        if model.tiedEmbeddings, let head = model.lmHeadTensor { assign(head, .leftOut, .other) }
        let special = named.keys.sorted()
        var next = 0
        checkpoint.forEachTensor { position, table, row in
            var role = next < special.count && special[next] == position ? named[position] : nil
            if role != nil { next += 1 }
            if role?.rank == .leftOut { return }
            if role.map({ $0.rank <= .expert }) ?? true, expertOf[position] > 0 {
                role = (.expert, .moeFeedForward, model.moeLayers[Int(expertOf[position]) - 1].layer)
            }
            body(table, row, role?.component ?? byName(table.nameBytes(at: row)), role?.layer)
        }
    }
}
