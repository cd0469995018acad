import MoESlimSupport

/// One tensor of a GGUF file. `dims` are ggml's ne[0...]: ne[0] is the row, the fastest-moving axis, so the
/// last dimension is the outermost one (the expert axis of a stacked `ffn_*_exps` tensor) and the reverse of
/// the PyTorch shape.
public struct GGUFTensorInfo: Sendable {
    public var name: String
    public var dims: [Int]
    public var type: GGMLType
    /// From the start of the data section.
    public var offset: Int
    public var byteCount: Int

    public var elementCount: Int { dims.reduce(1, *) }

    /// The PyTorch-order shape, as transformers would show it.
    public var shape: [Int] { dims.reversed() }

    /// The bytes of one slice along the outermost dimension (one expert of a stacked tensor, one row of a
    /// router): every slice is a whole number of blocks laid end to end, since a row is whole blocks.
    public var outerSliceBytes: Int { dims.last.map { $0 == 0 ? 0 : byteCount / $0 } ?? byteCount }

    public var range: Range<Int> { offset..<(offset + byteCount) }
}

/// The limits a hostile header meets before anything is allocated or summed (formats/gguf.md).
public enum GGUFLimits {
    public static let maxTensors = 1 << 20
    public static let maxKeyValues = 1 << 20
    public static let maxKeyBytes = 65_535
    /// llama.cpp's GGML_MAX_NAME is 64 with the terminating NUL.
    public static let maxTensorNameBytes = 63
    /// GGML_MAX_DIMS.
    public static let maxDims = 4
    public static let maxArrayNesting = 8
    public static let defaultAlignment = 32
}
