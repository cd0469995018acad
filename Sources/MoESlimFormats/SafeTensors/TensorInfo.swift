/// What a header says about one tensor. Offsets are relative to the start of the data buffer, as in the file.
public struct TensorInfo: Sendable, Equatable {
    public var name: String
    public var dtype: DType
    public var shape: [Int]
    public var begin: Int
    public var end: Int

    public var byteCount: Int { end - begin }
    public var elementCount: Int { shape.reduce(1, *) }

    public init(name: String, dtype: DType, shape: [Int], begin: Int, end: Int) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.begin = begin
        self.end = end
    }

    /// Bytes a tensor of this dtype and shape occupies, or nil on overflow or a partial byte.
    public static func byteCount(dtype: DType, shape: [Int]) -> Int? {
        guard let bits = bitCount(dtype: dtype, shape: shape), bits % 8 == 0 else { return nil }
        return bits / 8
    }

    /// Bits rather than bytes so that the two ways a shape can be invalid (overflow, partial byte) can be told apart.
    public static func bitCount(dtype: DType, shape: [Int]) -> Int? {
        var elements = 1
        for dim in shape {
            guard dim >= 0 else { return nil }
            let (product, overflow) = elements.multipliedReportingOverflow(by: dim)
            guard !overflow else { return nil }
            elements = product
        }
        let (bits, overflow) = elements.multipliedReportingOverflow(by: dtype.bits)
        return overflow ? nil : bits
    }
}
