import MoESlimFormats

/// Merging works in f32 whatever the stored type, because that is the precision PEFT adds deltas in on a CPU;
/// these conversions are the only place a stored float is read or written.
enum TensorElements {
    static func supports(_ dtype: DType) -> Bool { dtype == .F32 || dtype == .BF16 || dtype == .F16 }

    /// Checkpoint bytes may be unaligned (safetensors packs tensors back to back), hence loadUnaligned.
    static func floats(_ bytes: UnsafeRawBufferPointer, dtype: DType) -> [Float] {
        let width = dtype.bits / 8
        let count = bytes.count / max(width, 1)
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            switch dtype {
            case .F32:
                for i in 0..<count { out[i] = Float(bitPattern: bytes.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)) }
            case .BF16:
                for i in 0..<count { out[i] = Float(bitPattern: UInt32(bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) << 16) }
            case .F16:
                for i in 0..<count { out[i] = Float(float16Bits: bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)) }
            default:
                initialized = 0
                return
            }
            initialized = count
        }
    }

    static func store(_ values: [Float], into buffer: UnsafeMutableRawBufferPointer, dtype: DType) {
        values.withUnsafeBufferPointer { v in
            switch dtype {
            case .F32:
                for i in 0..<v.count { buffer.storeBytes(of: v[i].bitPattern, toByteOffset: i * 4, as: UInt32.self) }
            case .BF16:
                for i in 0..<v.count { buffer.storeBytes(of: bfloat16Bits(v[i]), toByteOffset: i * 2, as: UInt16.self) }
            case .F16:
                for i in 0..<v.count { buffer.storeBytes(of: v[i].float16Bits, toByteOffset: i * 2, as: UInt16.self) }
            default:
                break
            }
        }
    }

    /// Rounds through the stored type and back: what `tensor.to(dtype)` does to an f32 value.
    static func rounded(_ v: Float, to dtype: DType) -> Float {
        switch dtype {
        case .BF16: return Float(bitPattern: UInt32(bfloat16Bits(v)) << 16)
        case .F16: return Float(float16Bits: v.float16Bits)
        default: return v
        }
    }

    /// Round-to-nearest-even, NaN kept quiet: the same rule as torch's f32 → bf16 cast.
    static func bfloat16Bits(_ v: Float) -> UInt16 {
        let bits = v.bitPattern
        if v.isNaN { return UInt16(truncatingIfNeeded: (bits >> 16) | 0x40) }
        let rounding = 0x7FFF + ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }
}

extension Float {
    init(float16Bits bits: UInt16) {
        self = Float(Float16(bitPattern: bits))
    }

    var float16Bits: UInt16 { Float16(self).bitPattern }
}
