import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies

/// Sorts a GGUF's tensors into the report's components by llama.cpp's tensor names (`blk.<l>.<kind>.weight`,
/// `token_embd`, `output`), which are the same for every architecture; routed experts by the description's
/// MoE layers, so a tensor counts as partly active only when a router really picks among its experts.
enum GGUFTensorClassifier {
    static func classify(_ name: String, _ model: ModelDescription, moe: [ByteName: Int]) -> (Component, Int?) {
        if let layer = moe[ByteName(name)] { return (.moeFeedForward, layer) }
        let parts = name.byteSplit(".")
        let kind = parts.count >= 3 && parts[0].sameBytes(as: "blk") ? parts[2] : parts[0]
        if name.sameBytes(as: model.embedTensor) { return (.embed, nil) }
        if let head = model.lmHeadTensor, name.sameBytes(as: head) { return (.deEmbed, nil) }
        if kind.utf8.elementsEqual("norm".utf8) || kind.hasByteSuffix("_norm") || kind.hasByteSuffix("norm_b") { return (.norms, nil) }
        if kind.hasByteSuffix("_shexp") || kind.hasByteSuffix("_shexp_inp") { return (.sharedExperts, nil) }
        if kind.sameBytes(as: "ffn_gate_inp") || kind.sameBytes(as: "exp_probs_b") { return (.moeGating, nil) }
        if kind.sameBytes(as: "attn_output") { return (.attentionProject, nil) }
        if kind.sameBytes(as: "attn_sinks") { return (.other, nil) }
        if kind.hasBytePrefix("attn_") { return (.attentionQKV, nil) }
        if ["ffn_gate", "ffn_up", "ffn_down", "ffn_gate_up"].contains(where: { kind.sameBytes(as: $0) }) { return (.denseFeedForward, nil) }
        return (.other, nil)
    }
}

extension SizeReport {
    /// The report of a GGUF: parameters from the shapes, bytes as stored (whole quantized blocks), FLOPs from
    /// the architecture's hyperparameters as for safetensors (formats/report.md).
    public init(_ gguf: GGUFModel, model: ModelDescription, context: Int, topK: Int? = nil) throws(MoESlimError) {
        if let topK, let layer = model.moeLayers.first(where: { topK > $0.numExperts }) {
            throw MoESlimError(.invalidArgument, "--top-k \(topK) is more than the \(layer.numExperts) experts of layer \(layer.layer)", path: gguf.path)
        }
        var moe: [ByteName: Int] = [:]
        for layer in model.moeLayers {
            for name in layer.expertTensorNames { moe[ByteName(name)] = layer.layer }
        }
        var tally = ComponentTally(model: model, topK: topK)
        for (_, info) in gguf.tensors {
            let (component, layer) = GGUFTensorClassifier.classify(info.name, model, moe: moe)
            tally.add(component, layer: layer, elements: info.elementCount, bytes: info.byteCount)
        }
        // GGUF keeps each block's scale inside the block, so no tensor holds scales alone.
        self.init(model: model, tally: tally, path: gguf.path, context: context, topK: topK, scaleBytes: 0)
    }
}

extension SizeReport {
    /// The report of a model given by path: a `.gguf` file (or split part), else a safetensors file or folder.
    public static func of(_ path: String, context: Int, topK: Int? = nil) throws(MoESlimError) -> SizeReport {
        guard path.hasByteSuffix(".gguf") else { return try SizeReport(Checkpoint(path: path), context: context, topK: topK) }
        let gguf = try GGUFModel(path: path)
        return try SizeReport(gguf, model: GGUFArchitectures.describe(gguf), context: context, topK: topK)
    }
}
