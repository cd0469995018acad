import MoESlimSupport
import MoESlimFamilies

/// Sorts every tensor into a component using the family-neutral description; names outside the MoE blocks
/// are recognised by the module names all supported families share (self_attn, mlp, *norm*).
enum TensorClassifier {
    /// Component of each tensor, with the MoE layer for routed-expert tensors (only they are partly active).
    static func classify(_ names: [String], _ model: ModelDescription) -> [ByteName: (Component, Int?)] {
        var result: [ByteName: (Component, Int?)] = [:]
        result.reserveCapacity(names.count)
        for layer in model.moeLayers {
            for r in layer.router { result[ByteName(r.name)] = (.moeGating, nil) }
            for name in layer.expertTensorNames { result[ByteName(name)] = (.moeFeedForward, layer.layer) }
            for name in layer.shared { result[ByteName(name)] = (.sharedExperts, nil) }
        }
        result[ByteName(model.embedTensor)] = (.embed, nil)
        if let head = model.lmHeadTensor { result[ByteName(head)] = (.deEmbed, nil) }
        for name in names where result[ByteName(name)] == nil {
            result[ByteName(name)] = (byName(name), nil)
        }
        return result
    }

    static func byName(_ name: String) -> Component {
        var name = name
        return name.withUTF8 { byName(UnsafeRawBufferPointer($0)) }
    }

    /// By the dot-separated parts of the name, compared as bytes (Foundation's substring search was most of
    /// this on large checkpoints).
    static func byName(_ name: UnsafeRawBufferPointer) -> Component {
        let parts = name.split(separator: UInt8(ascii: ".")).map(UnsafeRawBufferPointer.init(rebasing:))
        func any(_ words: StaticString...) -> Bool { parts.contains { part in words.contains { part.spells($0) } } }
        if parts.contains(where: { $0.contains("norm") }) { return .norms }
        if any("self_attn", "attention", "attn") {
            if any("o_proj", "out_proj", "dense") { return .attentionProject }
            if parts.contains(where: { $0.ends(with: "_proj") || $0.ends(with: "_proj_with_mqa") }) { return .attentionQKV }
            return .other
        }
        if any("mlp", "feed_forward", "block_sparse_moe") { return .denseFeedForward }
        return .other
    }
}

private extension UnsafeRawBufferPointer {
    func ends(with word: StaticString) -> Bool {
        count >= word.utf8CodeUnitCount && UnsafeRawBufferPointer(rebasing: self[(count - word.utf8CodeUnitCount)...]).spells(word)
    }

    func contains(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        return count >= n && (0 ... count - n).contains { UnsafeRawBufferPointer(rebasing: self[$0 ..< $0 + n]).spells(word) }
    }
}
