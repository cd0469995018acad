import MoESlimSupport

/// A ggml tensor type: how many elements one block holds and how many bytes the block takes. Quantized types
/// store a row as whole blocks, so a row's length must be a multiple of the block size; the table is gguf-py's
/// `GGML_QUANT_SIZES` (gguf 0.19.0, constants.py). Ids missing from it (4, 5, 31–33, 36–38) belonged to types
/// llama.cpp has removed and its loader refuses.
public struct GGMLType: Sendable, Equatable {
    public let id: UInt32
    public let name: String
    public let blockSize: Int
    public let bytesPerBlock: Int

    public static let all: [GGMLType] = [
        .init(0, "F32", 1, 4), .init(1, "F16", 1, 2),
        .init(2, "Q4_0", 32, 18), .init(3, "Q4_1", 32, 20), .init(6, "Q5_0", 32, 22), .init(7, "Q5_1", 32, 24),
        .init(8, "Q8_0", 32, 34), .init(9, "Q8_1", 32, 40),
        .init(10, "Q2_K", 256, 84), .init(11, "Q3_K", 256, 110), .init(12, "Q4_K", 256, 144),
        .init(13, "Q5_K", 256, 176), .init(14, "Q6_K", 256, 210), .init(15, "Q8_K", 256, 292),
        .init(16, "IQ2_XXS", 256, 66), .init(17, "IQ2_XS", 256, 74), .init(18, "IQ3_XXS", 256, 98),
        .init(19, "IQ1_S", 256, 50), .init(20, "IQ4_NL", 32, 18), .init(21, "IQ3_S", 256, 110),
        .init(22, "IQ2_S", 256, 82), .init(23, "IQ4_XS", 256, 136),
        .init(24, "I8", 1, 1), .init(25, "I16", 1, 2), .init(26, "I32", 1, 4), .init(27, "I64", 1, 8),
        .init(28, "F64", 1, 8), .init(29, "IQ1_M", 256, 56), .init(30, "BF16", 1, 2),
        .init(34, "TQ1_0", 256, 54), .init(35, "TQ2_0", 256, 66),
        .init(39, "MXFP4", 32, 17), .init(40, "NVFP4", 64, 36), .init(41, "Q1_0", 128, 18),
    ]

    private init(_ id: UInt32, _ name: String, _ blockSize: Int, _ bytesPerBlock: Int) {
        self.id = id
        self.name = name
        self.blockSize = blockSize
        self.bytesPerBlock = bytesPerBlock
    }

    public static func of(_ id: UInt32) -> GGMLType? { all.first { $0.id == id } }

    public static func named(_ name: String) -> GGMLType? { all.first { $0.name.sameBytes(as: name) } }

    public static let f32 = of(0)!

    /// Bytes of `elements` elements laid out along a row, nil when they are not whole blocks or overflow.
    public func bytes(forRowOf elements: Int) -> Int? {
        guard elements >= 0, elements % blockSize == 0 else { return nil }
        let (b, o) = (elements / blockSize).multipliedReportingOverflow(by: bytesPerBlock)
        return o ? nil : b
    }

    /// Element types whose values moe-slim can read back as numbers (verify --scan, imatrix counts).
    public var isPlainFloat: Bool { id == 0 || id == 1 || id == 30 || id == 28 }
}
