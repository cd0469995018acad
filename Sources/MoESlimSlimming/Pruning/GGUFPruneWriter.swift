import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies

/// Prunes a GGUF by byte surgery. A stacked expert tensor (`blk.<l>.ffn_{gate,up,down,gate_up}_exps` and
/// their `.bias`) has the expert as its outermost ggml dimension, and a row is whole quantized blocks, so
/// expert e is one contiguous slab of `byteCount / experts` bytes; the router (`ffn_gate_inp`, its bias,
/// `exp_probs_b`) likewise has one row per expert. Pruning copies the kept slabs in order, kernel-side, and
/// never decodes a block. The output is one GGUF (a split input's parts become one file), written into a
/// temporary beside the destination, checked against the plan, then renamed into place (formats/gguf.md).
public struct GGUFPruneWriter {
    /// One output tensor: its new shape and the byte ranges of the input it is made of, in order.
    struct Tensor {
        var name: String
        var dims: [Int]
        var type: GGMLType
        var part: Int
        var ranges: [Range<Int>]
        var byteCount: Int { ranges.reduce(0) { $0 + $1.count } }
    }

    public static let provenanceKey = "moe_slim.plan"

    public let input: GGUFModel
    public let model: ModelDescription
    public let plan: PruningPlan
    let tensors: [Tensor]
    let kept: Int

    public init(input: GGUFModel, model: ModelDescription, plan: PruningPlan) throws(MoESlimError) {
        self.input = input
        self.model = model
        self.plan = plan
        let counts = Set(model.moeLayers.map { plan.keptExperts(layer: $0).count })
        guard counts.count <= 1 else {
            throw MoESlimError(.invalidPlan, "this plan keeps \(counts.sorted().map(String.init).joined(separator: " or ")) experts in different layers, but a GGUF has one \(model.expertCountKey) for all layers; use --strategy layer or a plan with the same count in every layer", path: input.path)
        }
        kept = counts.first ?? 0
        var sliced: [ByteName: [Int]] = [:]
        for layer in model.moeLayers {
            let ids = plan.keptExperts(layer: layer)
            for t in layer.router { sliced[ByteName(t.name)] = ids }
            for name in layer.expertTensorNames { sliced[ByteName(name)] = ids }
        }
        var out: [Tensor] = []
        for (part, info) in input.tensors {
            let start = input.parts[part].fileOffset(of: info)
            guard let ids = sliced[ByteName(info.name)] else {
                out.append(Tensor(name: info.name, dims: info.dims, type: info.type, part: part, ranges: [start..<(start + info.byteCount)]))
                continue
            }
            let slab = info.outerSliceBytes
            var ranges: [Range<Int>] = []
            for e in ids {
                let r = (start + e * slab)..<(start + (e + 1) * slab)
                if let last = ranges.last, last.upperBound == r.lowerBound {
                    ranges[ranges.count - 1] = last.lowerBound..<r.upperBound
                } else {
                    ranges.append(r)
                }
            }
            var dims = info.dims
            dims[dims.count - 1] = ids.count
            out.append(Tensor(name: info.name, dims: dims, type: info.type, part: part, ranges: ranges))
        }
        tensors = out
    }

    /// The metadata of the output: the input's entries in order, byte for byte, except the expert count (and
    /// top-k with --top-k) with their own types, the `split.*` keys of a split input (the output is one file),
    /// and the provenance entry, the plan as JSON, replaced where an earlier prune left one, else last.
    func metadata() throws(MoESlimError) -> [[UInt8]] {
        let first = input.parts[0]
        var entries: [[UInt8]] = []
        var wroteProvenance = false
        let provenance = GGUFValue.string(Array(plan.json.serialized(indent: nil).utf8))
        for kv in first.header.metadata {
            if kv.key.hasBytePrefix("split.") { continue }
            var replacement: GGUFValue?
            if kv.key.sameBytes(as: model.expertCountKey) { replacement = try Self.sameType(kv, kept, path: input.path) }
            if let topK = plan.topK, kv.key.sameBytes(as: model.topKKey) { replacement = try Self.sameType(kv, topK, path: input.path) }
            if kv.key.sameBytes(as: Self.provenanceKey) {
                replacement = provenance
                wroteProvenance = true
            }
            if let replacement, let bytes = GGUFEncoding.keyValue(kv.key, replacement) {
                entries.append(bytes)
            } else {
                entries.append(Array(first.wholeFile[kv.bytes]))
            }
        }
        if !wroteProvenance { entries.append(GGUFEncoding.keyValue(Self.provenanceKey, provenance)!) }
        return entries
    }

    private static func sameType(_ kv: GGUFKeyValue, _ value: Int, path: String) throws(MoESlimError) -> GGUFValue {
        guard case .integer(let type, _) = kv.value else {
            throw MoESlimError(.invalidConfig, "\(kv.key) is a \(kv.value.type.name), not an integer", path: path)
        }
        return .integer(type, Int64(value))
    }

    /// Writes the pruned GGUF to `destination` (checked beforehand by OutputTarget), all or nothing.
    public func write(to destination: String, force: Bool) throws(MoESlimError) {
        guard destination.hasByteSuffix(".gguf") else {
            throw MoESlimError(.invalidArgument, "the input is a GGUF, so the output must be a .gguf file too", path: destination)
        }
        guard (try? GGUFModel.partPaths(of: destination))?.count == 1 else {
            throw MoESlimError(.invalidArgument, "the output is one file; a name ending in -NNNNN-of-NNNNN.gguf would read as a part of a split model", path: destination)
        }
        let alignment = input.parts[0].header.alignment
        let entries = try metadata()
        var header = GGUFEncoding.fileHeader(version: input.parts[0].header.version, tensorCount: tensors.count, keyValueCount: entries.count)
        for e in entries { header += e }
        var offset = 0
        for t in tensors {
            header += GGUFEncoding.tensorInfo(name: t.name, dims: t.dims, type: t.type, offset: offset)
            offset += t.byteCount + GGUFEncoding.padding(after: t.byteCount, alignment: alignment)
        }
        header += [UInt8](repeating: 0, count: GGUFEncoding.padding(after: header.count, alignment: alignment))
        let temp = try Temporary(beside: destination, folder: false)
        do throws(MoESlimError) {
            var writer = try SafeTensorsStreamWriter(temporary: temp)
            do throws(MoESlimError) {
                try writer.write(header)
                let zeros = [UInt8](repeating: 0, count: alignment)
                for t in tensors {
                    let file = input.parts[t.part]
                    for r in t.ranges { try writer.copy(from: file.descriptor, path: file.path, mapped: file.wholeFile, range: r) }
                    try writer.write(Array(zeros.prefix(GGUFEncoding.padding(after: t.byteCount, alignment: alignment))))
                }
                try writer.finish()
            } catch {
                writer.abandon()
                throw error
            }
            try confirm(temp.path)
            try temp.publish(to: destination, force: force)
        } catch {
            temp.remove()
            throw error
        }
    }

    /// The written file passes every reading rule and holds exactly the planned tensors and expert counts.
    private func confirm(_ path: String) throws(MoESlimError) {
        let written = try GGUFModel(path: path)
        guard written.tensors.count == tensors.count else {
            throw MoESlimError(.verifyFailed, "wrote \(written.tensors.count) tensors, planned \(tensors.count)", path: path)
        }
        for (planned, (_, info)) in zip(tensors, written.tensors) {
            guard info.name.sameBytes(as: planned.name), info.dims == planned.dims, info.type == planned.type else {
                throw MoESlimError(.verifyFailed, "tensor differs from the plan after writing", path: path, tensor: planned.name)
            }
        }
        let description = try GGUFArchitectures.describe(written)
        for layer in description.moeLayers where layer.numExperts != kept {
            throw MoESlimError(.verifyFailed, "layer \(layer.layer) has \(layer.numExperts) experts after writing, planned \(kept)", path: path)
        }
    }

    /// The tensors' new shapes, for a size report of the result before it is written.
    public var prunedDescription: ModelDescription {
        var d = model
        for i in d.moeLayers.indices {
            d.moeLayers[i].numExperts = kept
            if let topK = plan.topK { d.moeLayers[i].topK = topK }
        }
        return d
    }
}
