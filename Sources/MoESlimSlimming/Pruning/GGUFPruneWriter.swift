#if canImport(Glibc)
import Glibc
#endif
import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies

/// Prunes a GGUF by byte surgery. A stacked expert tensor (`blk.<l>.ffn_{gate,up,down,gate_up}_exps` and
/// their `.bias`) has the expert as its outermost ggml dimension, and a row is whole quantized blocks, so
/// expert e is one contiguous slab of `byteCount / experts` bytes; the router (`ffn_gate_inp`, its bias,
/// `exp_probs_b`) likewise has one row per expert. Pruning copies the kept slabs in order, kernel-side, and
/// never decodes a block. The output is one GGUF, or a split one (GGUFSplit: a split input's parts, or
/// gguf-py's limits), written into temporaries beside the destination, checked against the plan, then renamed
/// into place (formats/gguf.md).
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
    /// The output's parts, as ranges of `tensors`.
    let parts: [Range<Int>]
    let kept: Int

    public init(input: GGUFModel, model: ModelDescription, plan: PruningPlan, split: GGUFSplit = .keepInput) throws(MoESlimError) {
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
        parts = split.parts(out.map { ($0.part, $0.byteCount) }, inputParts: input.parts.count)
    }

    /// The metadata of the output: the input's entries in order, byte for byte, except the expert count (and
    /// top-k with --top-k) with their own types, the `split.*` keys of a split input (GGUFSplit appends the
    /// output's own), and the provenance entry, the plan as JSON, replaced where an earlier prune left one, else last.
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

    /// The files the output is written to, one per part, the first holding the metadata.
    public func outputPaths(_ destination: String) throws(MoESlimError) -> [String] {
        try GGUFSplit.paths(destination, count: parts.count)
    }

    /// Writes the pruned GGUF to `destination` (its parts to `outputPaths`, checked beforehand by
    /// OutputTarget), all or nothing: every part is written to a temporary beside its destination and synced,
    /// the parts are read back and checked together, and only then renamed into place, the first part last.
    public func write(to destination: String, force: Bool) throws(MoESlimError) {
        let paths = try outputPaths(destination)
        var temporaries: [Temporary] = []
        do throws(MoESlimError) {
            for (number, range) in parts.enumerated() {
                let temp = try Temporary(beside: paths[number], folder: false)
                temporaries.append(temp)
                try writePart(number, tensors: range, to: temp)
            }
            try confirm(temporaries.map(\.path))
            try publish(temporaries, to: paths, force: force)
        } catch {
            for temp in temporaries { temp.remove() }
            throw error
        }
    }

    /// Part `number`: the first has the metadata and the input's alignment; the others only the `split.*`
    /// entries, so readers align them by the default 32 bytes, as llama-gguf-split writes them.
    private func writePart(_ number: Int, tensors range: Range<Int>, to temp: Temporary) throws(MoESlimError) {
        var entries = number == 0 ? try metadata() : []
        if parts.count > 1 { entries += GGUFSplit.entries(number: number, count: parts.count, tensors: tensors.count) }
        let alignment = number == 0 ? input.parts[0].header.alignment : GGUFLimits.defaultAlignment
        var header = GGUFEncoding.fileHeader(version: input.parts[0].header.version, tensorCount: range.count, keyValueCount: entries.count)
        for e in entries { header += e }
        var offset = 0
        for t in tensors[range] {
            header += GGUFEncoding.tensorInfo(name: t.name, dims: t.dims, type: t.type, offset: offset)
            offset += t.byteCount + GGUFEncoding.padding(after: t.byteCount, alignment: alignment)
        }
        header += [UInt8](repeating: 0, count: GGUFEncoding.padding(after: header.count, alignment: alignment))
        var writer = try SafeTensorsStreamWriter(temporary: temp)
        do throws(MoESlimError) {
            try writer.write(header)
            let zeros = [UInt8](repeating: 0, count: alignment)
            for t in tensors[range] {
                let file = input.parts[t.part]
                for r in t.ranges { try writer.copy(from: file.descriptor, path: file.path, mapped: file.wholeFile, range: r) }
                try writer.write(Array(zeros.prefix(GGUFEncoding.padding(after: t.byteCount, alignment: alignment))))
            }
            try writer.finish()
        } catch {
            writer.abandon()
            throw error
        }
    }

    /// Renames the parts into place, the first part (the name a user gives llama.cpp) last. When one cannot be
    /// put in place, the parts this run already put where nothing was are removed again.
    private func publish(_ temporaries: [Temporary], to paths: [String], force: Bool) throws(MoESlimError) {
        var placed: [String] = []
        do throws(MoESlimError) {
            for i in paths.indices.reversed() {
                let existed = FileSystem.exists(paths[i])
                try temporaries[i].publish(to: paths[i], force: force)
                if !existed { placed.append(paths[i]) }
            }
        } catch {
            for path in placed { _ = unlink(path) }
            throw error
        }
    }

    /// The written parts pass every reading rule, together as a split, and hold exactly the planned tensors
    /// and expert counts.
    private func confirm(_ paths: [String]) throws(MoESlimError) {
        let written = try GGUFModel(path: paths[0], partPaths: paths)
        let path = paths[0]
        guard written.tensors.count == tensors.count else {
            throw MoESlimError(.verifyFailed, "wrote \(written.tensors.count) tensors, planned \(tensors.count)", path: path)
        }
        for (planned, (_, info)) in zip(tensors, written.tensors) {
            guard info.name.sameBytes(as: planned.name), info.dims == planned.dims, info.type == planned.type else {
                throw MoESlimError(.verifyFailed, "tensor differs from the plan after writing", path: path, tensor: planned.name)
            }
        }
        for (number, range) in parts.enumerated() where written.parts[number].header.tensors.count != range.count {
            throw MoESlimError(.verifyFailed, "part \(number + 1) holds \(written.parts[number].header.tensors.count) tensors, planned \(range.count)", path: paths[number])
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
