import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies

/// llama.cpp's importance matrix (`llama-imatrix -o imatrix.gguf`, tools/imatrix/imatrix.cpp) read as hard
/// counts. For every stacked expert tensor it stores `<tensor>.counts`, an F32 [1, experts] tensor: how many
/// tokens the router sent to each expert, the same for the gate, up and down projections of a layer. That is
/// the `hard` statistic of a calibrate run, so a user who made an imatrix for quantizing has a pruning plan.
public enum ImatrixCounts {
    /// The projections whose counts stand for a layer, in order of preference (all hold the same counts).
    static let countedTensors = ["ffn_up_exps", "ffn_gate_exps", "ffn_gate_up_exps", "ffn_down_exps"]

    /// The counts of every MoE layer of `model`, refusing an imatrix of another shape.
    public static func load(_ path: String, for model: ModelDescription) throws(MoESlimError) -> ExpertCounts {
        let file = try open(path)
        var counts = ExpertCounts(model: model, settings: settings(file))
        for (i, layer) in model.moeLayers.enumerated() {
            guard let (name, values) = try layerCounts(file, layer: layer.layer, path: path) else {
                throw MoESlimError(.invalidCounts, "has no counts for MoE layer \(layer.layer) (blk.\(layer.layer).ffn_up_exps.weight.counts)", path: path)
            }
            guard values.count == layer.numExperts else {
                throw MoESlimError(.invalidCounts, "counts \(values.count) experts but layer \(layer.layer) of the model has \(layer.numExperts)", path: path, tensor: name)
            }
            counts.layers[i].hard = values
            counts.layers[i].tokens = tokens(file, values: values, topK: layer.topK)
        }
        counts.tokens = counts.layers.map(\.tokens).max() ?? 0
        return counts
    }

    /// The counts alone, for `counts show`: every layer with stacked experts, tokens from the chunks.
    public static func load(_ path: String) throws(MoESlimError) -> ExpertCounts {
        let file = try open(path)
        var layers: [(Int, [Double])] = []
        var seen = Set<Int>()
        for info in file.header.tensors where info.name.hasBytePrefix("blk.") && info.name.hasByteSuffix(".counts") {
            guard let l = info.name.indexAfter(prefix: "blk."), !seen.contains(l), let (_, values) = try layerCounts(file, layer: l, path: path) else { continue }
            seen.insert(l)
            layers.append((l, values))
        }
        layers.sort { $0.0 < $1.0 }
        let outline = GGUFArchitectures.countsOutline(modelType: "llama-imatrix", experts: layers.map { ($0.0, $0.1.count) })
        var counts = ExpertCounts(model: outline, settings: settings(file))
        for (i, layer) in layers.enumerated() {
            counts.layers[i].hard = layer.1
            counts.layers[i].tokens = tokens(file, values: layer.1, topK: nil)
        }
        counts.tokens = counts.layers.map(\.tokens).max() ?? 0
        return counts
    }

    private static func open(_ path: String) throws(MoESlimError) -> GGUFFile {
        let file = try GGUFFile(path: path)
        guard let type = file.header.value("general.type")?.text, type.sameBytes(as: "imatrix") else {
            throw MoESlimError(.invalidCounts, "is a GGUF but not a llama-imatrix file (general.type is not 'imatrix')", path: path)
        }
        return file
    }

    /// Tokens through a layer: the chunks llama-imatrix evaluated, or else the counts over top-k.
    private static func tokens(_ file: GGUFFile, values: [Double], topK: Int?) -> Int {
        if let chunks = file.header.value("imatrix.chunk_count")?.int, let size = file.header.value("imatrix.chunk_size")?.int,
           chunks > 0, size > 0, chunks <= Int.max / size {
            return chunks * size
        }
        return Int(values.reduce(0, +)) / max(topK ?? 1, 1)
    }

    private static func settings(_ file: GGUFFile) -> [ByteName: String] {
        var s: [ByteName: String] = ["source": "llama-imatrix"]
        if case .array(let a)? = file.header.value("imatrix.datasets"), let names = file.strings(a) {
            s["datasets"] = names.joined(separator: ", ")
        }
        return s
    }

    /// One layer's counts, checked: F32 [1, experts], every value a whole number of tokens below 2^53.
    private static func layerCounts(_ file: GGUFFile, layer: Int, path: String) throws(MoESlimError) -> (String, [Double])? {
        for kind in countedTensors {
            let name = "blk.\(layer).\(kind).weight.counts"
            guard let info = file.header.tensors.first(where: { $0.name.sameBytes(as: name) }) else { continue }
            guard info.type == .f32, info.dims.count == 2, info.dims[0] == 1 else {
                throw MoESlimError(.invalidCounts, "is \(info.type.name) \(info.shape), not the F32 [experts, 1] of llama-imatrix counts", path: path, tensor: name)
            }
            let bytes = file.bytes(of: info)
            var values: [Double] = []
            for i in 0..<info.dims[1] {
                let v = Double(Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))))
                guard v.isFinite, v >= 0, v == v.rounded(), v < 9_007_199_254_740_992 else {
                    throw MoESlimError(.invalidCounts, "expert \(i) has count \(v), not a whole number of tokens", path: path, tensor: name)
                }
                values.append(v)
            }
            return (name, values)
        }
        return nil
    }
}
