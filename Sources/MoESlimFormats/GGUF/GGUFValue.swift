import MoESlimSupport

/// The types a GGUF metadata value can have (gguf-py `GGUFValueType`, llama.cpp `gguf_type`).
public enum GGUFValueType: UInt32, Sendable, CaseIterable {
    case uint8 = 0, int8, uint16, int16, uint32, int32, float32, bool, string, array, uint64, int64, float64

    /// Bytes of one value; nil for strings and arrays, whose size is in the file.
    public var fixedSize: Int? {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64: return 8
        case .string, .array: return nil
        }
    }

    /// The fewest bytes one element of an array of this type takes: a string is at least its 8-byte length,
    /// an array its 4-byte type and 8-byte count. Bounds an array's count by the bytes left in the file.
    var minimumSize: Int { fixedSize ?? (self == .string ? 8 : 12) }

    public var name: String {
        switch self {
        case .uint8: return "uint8"
        case .int8: return "int8"
        case .uint16: return "uint16"
        case .int16: return "int16"
        case .uint32: return "uint32"
        case .int32: return "int32"
        case .float32: return "float32"
        case .bool: return "bool"
        case .string: return "string"
        case .array: return "array"
        case .uint64: return "uint64"
        case .int64: return "int64"
        case .float64: return "float64"
        }
    }
}

/// One metadata value. Arrays are kept as where their elements lie in the file, not decoded: a tokenizer's
/// vocabulary is an array of 150,000 strings that moe-slim only ever copies.
public enum GGUFValue: Sendable, Equatable {
    case integer(GGUFValueType, Int64)
    /// uint64 values above Int64.max.
    case bigUnsigned(UInt64)
    case float(GGUFValueType, Double)
    case bool(Bool)
    case string([UInt8])
    case array(GGUFArray)

    public var type: GGUFValueType {
        switch self {
        case .integer(let t, _), .float(let t, _): return t
        case .bigUnsigned: return .uint64
        case .bool: return .bool
        case .string: return .string
        case .array: return .array
        }
    }

    /// An integer value of any integer type.
    public var int: Int? {
        if case .integer(_, let v) = self { return Int(v) }
        return nil
    }

    public var text: String? {
        if case .string(let bytes) = self { return String(decoding: bytes, as: UTF8.self) }
        return nil
    }

    /// The value as `gguf_dump.py` would show it, arrays by type and length.
    public var shown: String {
        switch self {
        case .integer(_, let v): return String(v)
        case .bigUnsigned(let v): return String(v)
        case .float(_, let v): return String(v)
        case .bool(let v): return v ? "true" : "false"
        case .string(let b): return "'" + String(decoding: b.prefix(200), as: UTF8.self) + (b.count > 200 ? "…" : "") + "'"
        case .array(let a): return "[\(a.count) × \(a.elementType.name)]"
        }
    }
}

public struct GGUFArray: Sendable, Equatable {
    public var elementType: GGUFValueType
    public var count: Int
    /// The elements' bytes in the file.
    public var bytes: Range<Int>
}

/// One key/value pair as it lies in the file: `bytes` covers the key, the type and the value, so a writer can
/// copy an entry it does not change byte for byte.
public struct GGUFKeyValue: Sendable {
    public var key: String
    public var value: GGUFValue
    public var bytes: Range<Int>
}
