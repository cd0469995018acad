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
        let root = languageModelRoot(model)
        for name in names where result[ByteName(name)] == nil {
            var name = name
            result[ByteName(name)] = (name.withUTF8 { byName(UnsafeRawBufferPointer($0), root: root) }, nil)
        }
        return result
    }

    static func byName(_ name: String) -> Component {
        var name = name
        return name.withUTF8 { byName(UnsafeRawBufferPointer($0)) }
    }

    /// "model." for "model.layers.", "model.language_model." for a wrapper's "model.language_model.layers.".
    static func languageModelRoot(_ model: ModelDescription) -> [UInt8] {
        let prefix = Array(model.layersPrefix.utf8), layers = Array("layers.".utf8)
        return prefix.count >= layers.count && prefix.suffix(layers.count).elementsEqual(layers) ? Array(prefix.dropLast(layers.count)) : prefix
    }

    /// Tensors outside the language model (a wrapper's vision tower, a multi-token-prediction block) take no part
    /// in a text token's forward pass: counted, but as "other", never as attention or MLP FLOPs.
    static func byName(_ name: UnsafeRawBufferPointer, root: [UInt8]) -> Component {
        guard name.count >= root.count, name.prefix(root.count).elementsEqual(root) else { return .other }
        return byName(name)
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
        // Gated DeltaNet: the input projections (in_proj_qkvz, in_proj_ba, in_proj_qkv, ...) and the short
        // convolution on q, k and v make the layer's inputs, as q/k/v_proj do (2 FLOPs a parameter each).
        if any("linear_attn") {
            if any("out_proj") { return .attentionProject }
            if parts.contains(where: { $0.starts(with: "in_proj") }) || any("conv1d") { return .attentionQKV }
            return .other
        }
        // LongCat-Flash keeps its two dense MLPs per layer under `mlps.0.` and `mlps.1.`.
        if any("mlp", "mlps", "feed_forward", "block_sparse_moe") { return .denseFeedForward }
        return .other
    }
}

private extension UnsafeRawBufferPointer {
    func starts(with word: StaticString) -> Bool {
        count >= word.utf8CodeUnitCount && UnsafeRawBufferPointer(rebasing: self[..<word.utf8CodeUnitCount]).spells(word)
    }

    func ends(with word: StaticString) -> Bool {
        count >= word.utf8CodeUnitCount && UnsafeRawBufferPointer(rebasing: self[(count - word.utf8CodeUnitCount)...]).spells(word)
    }

    func contains(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        return count >= n && (0 ... count - n).contains { UnsafeRawBufferPointer(rebasing: self[$0 ..< $0 + n]).spells(word) }
    }
}
