import Foundation
import MoESlimSupport
import MoESlimFormats

/// Writes BASE with the plan's edits: every untouched tensor is copied byte for byte (or only converted, with a
/// different output dtype), every edited one is computed while it is written, so peak memory is a few tensors.
public struct LoraMergeWriter {
    public var base: Checkpoint
    public var plan: MergePlan
    public var destination: String
    /// nil keeps each tensor's stored type.
    public var dtype: DType?
    public var rounding: MergeRounding
    public var sharding: Sharding
    public var force: Bool
    /// The adapter folders and other paths the run reads besides BASE, which the output must not touch.
    public var otherInputs: [String]

    public init(
        base: Checkpoint, plan: MergePlan, destination: String, dtype: DType?, rounding: MergeRounding,
        sharding: Sharding = .keepInput, force: Bool, otherInputs: [String] = []
    ) {
        self.otherInputs = otherInputs
        self.sharding = sharding
        self.base = base
        self.plan = plan
        self.destination = destination
        self.dtype = dtype
        self.rounding = rounding
        self.force = force
    }

    public func write() throws(MoESlimError) {
        if let dtype, !TensorElements.supports(dtype) {
            throw MoESlimError(.invalidArgument, "--dtype must be F32, BF16 or F16")
        }
        let tensors = try outputTensors()
        let config = rewrittenConfig()
        var metadata = (base.shards.first?.header.metadata ?? []).filter { !$0.key.hasBytePrefix("moe_slim.") }
        metadata.append(("moe_slim.version", MoESlimVersion.string))
        metadata.append(("moe_slim.merged_adapters", plan.summaries.map(\.path).joined(separator: ",")))
        let writer = try CheckpointWriter(destination: destination, asFolder: base.isFolder, sharding: sharding,
                                          metadata: metadata, force: force, inputs: base.inputPaths + otherInputs,
                                          companionsFrom: base.isFolder ? base.folder : nil)
        let validate = { (temp: String) throws(MoESlimError) in
            try WrittenOutput.confirm(temp, againstConfig: false, holds: tensors)
        }
        if base.isFolder {
            var extras = try CheckpointMembers.companionFiles(of: base.folder).copied
            if let config { extras.append(.init(name: "config.json", contents: Array((config.serialized() + "\n").utf8))) }
            try writer.write(tensors, extraFiles: extras, validate: validate)
        } else {
            try writer.write(tensors, validate: validate)
        }
    }

    func outputTensors() throws(MoESlimError) -> [OutputTensor] {
        var out: [OutputTensor] = []
        for name in base.names {
            guard let location = base.location(of: name) else { continue }
            let info = location.info
            let edits = plan.edits[ByteName(name)] ?? []
            let target = dtype.map { info.dtype.isFloatingPoint && TensorElements.supports(info.dtype) ? $0 : info.dtype } ?? info.dtype
            if edits.isEmpty && target == info.dtype, let copy = OutputTensor.copy(name, from: base) {
                out.append(copy)
                continue
            }
            guard TensorElements.supports(info.dtype) else {
                throw MoESlimError(.invalidTensor, "an adapter edits this \(info.dtype.rawValue) tensor; only F32, BF16 and F16 weights can be merged into", path: base.path, tensor: name)
            }
            let shape = plan.outputShape(of: name, stored: info.shape)
            let file = base.shards[location.shard]
            let rounding = self.rounding
            out.append(OutputTensor(name: name, dtype: target, shape: shape, source: .produce { buffer in
                let values = DeltaMath.merged(stored: file.bytes(of: info), dtype: info.dtype, shape: info.shape, edits: edits, rounding: rounding)
                TensorElements.store(values, into: buffer, dtype: target)
                file.release(info)
            }, shardHint: location.shard))
        }
        return out
    }

    /// config.json follows a resized vocabulary and a changed dtype; nil when it needs no change.
    func rewrittenConfig() -> JSONValue? {
        guard var config = base.config else { return nil }
        if let embedding = plan.shapes.first(where: { $0.key.string.hasByteSuffix("embed_tokens.weight") }) ?? plan.shapes.first(where: { $0.key.string.hasByteSuffix("lm_head.weight") }) {
            config.set("vocab_size", .int(embedding.value[0]))
        }
        if let dtype {
            let name = ["F32": "float32", "BF16": "bfloat16", "F16": "float16"][dtype.rawValue]!
            for key in ["torch_dtype", "dtype"] where config[key] != nil { config.set(key, .string(name)) }
        }
        return config
    }
}
