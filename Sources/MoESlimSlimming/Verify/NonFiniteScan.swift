import MoESlimFormats

/// NaN and infinity counts of one tensor's stored values.
public struct NonFiniteCount: Sendable, Equatable {
    public var tensor: String
    public var shard: String
    public var nan = 0
    public var positiveInfinity = 0
    public var negativeInfinity = 0

    public var total: Int { nan + positiveInfinity + negativeInfinity }

    public var summary: String {
        [(nan, "NaN"), (positiveInfinity, "+Inf"), (negativeInfinity, "-Inf")]
            .filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
    }
}

/// Classifies values by their bit patterns rather than by converting them, so F16 and BF16 need no float
/// type of their own and misaligned data (old writers) is read with loadUnaligned, never bound in place.
enum NonFiniteScan {
    static func count(_ bytes: UnsafeRawBufferPointer, dtype: DType, into result: inout NonFiniteCount) {
        switch dtype {
        case .F16: tally(bytes, as: UInt16.self, exponent: 0x7C00, mantissa: 0x03FF, into: &result)
        case .BF16: tally(bytes, as: UInt16.self, exponent: 0x7F80, mantissa: 0x007F, into: &result)
        case .F32: tally(bytes, as: UInt32.self, exponent: 0x7F80_0000, mantissa: 0x007F_FFFF, into: &result)
        case .F64: tally(bytes, as: UInt64.self, exponent: 0x7FF0_0000_0000_0000, mantissa: 0x000F_FFFF_FFFF_FFFF, into: &result)
        default: return
        }
    }

    private static func tally<Bits: FixedWidthInteger & UnsignedInteger>(
        _ bytes: UnsafeRawBufferPointer, as: Bits.Type, exponent: Bits, mantissa: Bits, into result: inout NonFiniteCount
    ) {
        let width = MemoryLayout<Bits>.size
        var offset = 0
        while offset + width <= bytes.count {
            let value = Bits(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Bits.self))
            if value & exponent == exponent {
                if value & mantissa != 0 {
                    result.nan += 1
                } else if value >> (Bits.bitWidth - 1) == 1 {
                    result.negativeInfinity += 1
                } else {
                    result.positiveInfinity += 1
                }
            }
            offset += width
        }
    }
}
