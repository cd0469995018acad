/// One tensor of a checkpoint being written, described by where its bytes come from rather than by the bytes,
/// so a writer can stream a model of any size holding at most one produced tensor in memory.
public struct OutputTensor: Sendable {
    public enum Source: Sendable {
        /// Byte ranges of a source file (absolute file offsets), concatenated: a whole tensor, or the slices
        /// of it that survive pruning. Copied kernel-side where possible.
        case ranges(SafeTensorsFile, [Range<Int>])
        /// Bytes computed at write time into a buffer of exactly the tensor's size.
        case produce(@Sendable (UnsafeMutableRawBufferPointer) throws -> Void)
        case bytes([UInt8])
    }

    public var name: String
    public var dtype: DType
    public var shape: [Int]
    public var source: Source
    /// Which output shard the tensor belongs to when the input's sharding is kept.
    public var shardHint: Int

    public init(name: String, dtype: DType, shape: [Int], source: Source, shardHint: Int = 0) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.source = source
        self.shardHint = shardHint
    }

    /// The tensor unchanged, byte for byte.
    public static func copy(_ name: String, from checkpoint: Checkpoint, as newName: String? = nil) -> OutputTensor? {
        guard let loc = checkpoint.location(of: name) else { return nil }
        let file = checkpoint.shards[loc.shard]
        let start = file.fileOffset(of: loc.info)
        return OutputTensor(
            name: newName ?? name, dtype: loc.info.dtype, shape: loc.info.shape,
            source: .ranges(file, [start..<(start + loc.info.byteCount)]), shardHint: loc.shard)
    }

    public var byteCount: Int { TensorInfo.byteCount(dtype: dtype, shape: shape) ?? 0 }
}
