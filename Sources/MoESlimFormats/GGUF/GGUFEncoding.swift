import MoESlimSupport

/// The bytes of a GGUF header, laid out as gguf-py's GGUFWriter and llama.cpp's gguf_write lay them out:
/// magic, version, counts, key/value pairs, tensor infos, zero padding to the alignment. Key/value pairs a
/// writer keeps are copied from the input as they are; only new or changed values are encoded here.
public enum GGUFEncoding {
    public static func fileHeader(version: UInt32, tensorCount: Int, keyValueCount: Int) -> [UInt8] {
        var out = GGUFHeader.magic
        append(version, to: &out)
        append(UInt64(tensorCount), to: &out)
        append(UInt64(keyValueCount), to: &out)
        return out
    }

    /// A key and a scalar or string value; nil for arrays, which are only ever copied.
    public static func keyValue(_ key: String, _ value: GGUFValue) -> [UInt8]? {
        var out: [UInt8] = []
        appendString(Array(key.utf8), to: &out)
        append(value.type.rawValue, to: &out)
        switch value {
        case .integer(let type, let v):
            switch type {
            case .uint8, .int8: out.append(UInt8(truncatingIfNeeded: v))
            case .uint16, .int16: append(UInt16(truncatingIfNeeded: v), to: &out)
            case .uint32, .int32: append(UInt32(truncatingIfNeeded: v), to: &out)
            default: append(UInt64(bitPattern: v), to: &out)
            }
        case .bigUnsigned(let v): append(v, to: &out)
        case .float(let type, let v):
            if type == .float32 { append(Float(v).bitPattern, to: &out) } else { append(v.bitPattern, to: &out) }
        case .bool(let b): out.append(b ? 1 : 0)
        case .string(let bytes): appendString(bytes, to: &out)
        case .array: return nil
        }
        return out
    }

    public static func tensorInfo(name: String, dims: [Int], type: GGMLType, offset: Int) -> [UInt8] {
        var out: [UInt8] = []
        appendString(Array(name.utf8), to: &out)
        append(UInt32(dims.count), to: &out)
        for d in dims { append(UInt64(d), to: &out) }
        append(type.id, to: &out)
        append(UInt64(offset), to: &out)
        return out
    }

    /// Bytes to add after `size` bytes to reach a multiple of `alignment`.
    public static func padding(after size: Int, alignment: Int) -> Int { (alignment - size % alignment) % alignment }

    private static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out += $0 }
    }

    private static func appendString(_ bytes: [UInt8], to out: inout [UInt8]) {
        append(UInt64(bytes.count), to: &out)
        out += bytes
    }
}
