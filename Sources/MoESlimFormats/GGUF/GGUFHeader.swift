import MoESlimSupport

/// The parsed front of a GGUF file: version, metadata, tensor infos and where the data section starts, every
/// rule of formats/gguf.md checked. Parsing reads only the header; tensor data is never touched.
public struct GGUFHeader: Sendable {
    public static let magic: [UInt8] = Array("GGUF".utf8)
    /// magic, version, tensor count, key/value count.
    public static let fixedBytes = 24

    public var version: UInt32
    public var metadata: [GGUFKeyValue]
    public var tensors: [GGUFTensorInfo]
    public var alignment: Int
    /// Where the tensor infos end: the data section starts here, rounded up to the alignment.
    public var infosEnd: Int
    public var dataStart: Int
    /// The bytes the data section needs: the last tensor's end (tensors are laid end to end, each padded).
    public var dataBytes: Int

    public func value(_ key: String) -> GGUFValue? {
        metadata.first { $0.key.sameBytes(as: key) }?.value
    }

    static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws(MoESlimError) -> GGUFHeader {
        var c = GGUFCursor(bytes, path: path)
        guard bytes.count >= fixedBytes else {
            throw c.fail("file is \(bytes.count) bytes, too short for the \(fixedBytes)-byte GGUF header")
        }
        guard bytes.prefix(4).elementsEqual(magic) else {
            let found = bytes.prefix(4).map { String($0, radix: 16, uppercase: true) }.map { $0.count == 1 ? "0" + $0 : $0 }
            throw c.fail("does not start with the GGUF magic 47 47 55 46 ('GGUF'); it starts with \(found.joined(separator: " "))")
        }
        c.position = 4
        let version = try c.u32("version")
        guard version == 2 || version == 3 else {
            if version.byteSwapped == 2 || version.byteSwapped == 3 {
                throw c.fail("GGUF version \(version) is not supported: this is a big-endian file, and moe-slim reads little-endian GGUF only")
            }
            throw c.fail("GGUF version \(version) is not supported (moe-slim reads versions 2 and 3)")
        }
        let tensorCount = try c.u64("tensor count")
        let kvCount = try c.u64("metadata count")
        guard tensorCount <= UInt64(GGUFLimits.maxTensors) else {
            throw c.fail("tensor count \(tensorCount) is over the limit of \(GGUFLimits.maxTensors)")
        }
        guard kvCount <= UInt64(GGUFLimits.maxKeyValues) else {
            throw c.fail("metadata count \(kvCount) is over the limit of \(GGUFLimits.maxKeyValues)")
        }
        var metadata: [GGUFKeyValue] = []
        var keys = Set<ByteName>()
        for _ in 0..<Int(kvCount) {
            let kv = try parseKeyValue(&c)
            guard keys.insert(ByteName(kv.key)).inserted else { throw c.fail("metadata key '\(kv.key)' appears twice") }
            metadata.append(kv)
        }
        let alignment = try Self.alignment(metadata, c)
        var tensors: [GGUFTensorInfo] = []
        var names = Set<ByteName>()
        for _ in 0..<Int(tensorCount) {
            let info = try parseTensorInfo(&c)
            guard names.insert(ByteName(info.name)).inserted else { throw c.fail("appears twice in the tensor infos", tensor: info.name) }
            tensors.append(info)
        }
        let infosEnd = c.position
        let (dataStart, o) = infosEnd.addingReportingOverflow((alignment - infosEnd % alignment) % alignment)
        guard !o, dataStart <= bytes.count else {
            throw c.fail("the data section would start at byte \(infosEnd) rounded up to the alignment \(alignment), past the end of the \(bytes.count)-byte file")
        }
        let dataBytes = try checkLayout(tensors, alignment: alignment, available: bytes.count - dataStart, c)
        return GGUFHeader(version: version, metadata: metadata, tensors: tensors, alignment: alignment,
                          infosEnd: infosEnd, dataStart: dataStart, dataBytes: dataBytes)
    }

    /// `general.alignment`, a uint32 power of two, else 32.
    private static func alignment(_ metadata: [GGUFKeyValue], _ c: GGUFCursor) throws(MoESlimError) -> Int {
        guard let kv = metadata.first(where: { $0.key.sameBytes(as: "general.alignment") }) else { return GGUFLimits.defaultAlignment }
        guard case .integer(.uint32, let a) = kv.value else {
            throw c.fail("general.alignment is a \(kv.value.type.name), not a uint32")
        }
        guard a > 0, a & (a - 1) == 0 else { throw c.fail("general.alignment is \(a), not a power of two") }
        return Int(a)
    }

    private static func parseKeyValue(_ c: inout GGUFCursor) throws(MoESlimError) -> GGUFKeyValue {
        let start = c.position
        let raw = try c.string("metadata key")
        guard !raw.isEmpty else { throw c.fail("metadata key at byte \(start) is empty") }
        guard raw.count <= GGUFLimits.maxKeyBytes else {
            throw c.fail("metadata key at byte \(start) is \(raw.count) bytes, over the limit of \(GGUFLimits.maxKeyBytes)")
        }
        guard let key = String(validating: raw, as: UTF8.self) else { throw c.fail("metadata key at byte \(start) is not valid UTF-8") }
        let typeID = try c.u32("type of '\(key)'")
        guard let type = GGUFValueType(rawValue: typeID) else { throw c.fail("metadata '\(key)' has unknown value type \(typeID)") }
        let value = try parseValue(type, key: key, depth: 0, &c)
        return GGUFKeyValue(key: key, value: value, bytes: start..<c.position)
    }

    private static func parseValue(_ type: GGUFValueType, key: String, depth: Int, _ c: inout GGUFCursor) throws(MoESlimError) -> GGUFValue {
        let what = "value of '\(key)'"
        switch type {
        case .uint8: return .integer(type, Int64(try c.u8(what)))
        case .int8: return .integer(type, Int64(Int8(bitPattern: try c.u8(what))))
        case .uint16: return .integer(type, Int64(try c.u16(what)))
        case .int16: return .integer(type, Int64(Int16(bitPattern: try c.u16(what))))
        case .uint32: return .integer(type, Int64(try c.u32(what)))
        case .int32: return .integer(type, Int64(Int32(bitPattern: try c.u32(what))))
        case .uint64:
            let v = try c.u64(what)
            return v <= UInt64(Int64.max) ? .integer(type, Int64(v)) : .bigUnsigned(v)
        case .int64: return .integer(type, Int64(bitPattern: try c.u64(what)))
        case .float32: return .float(type, Double(Float(bitPattern: try c.u32(what))))
        case .float64: return .float(type, Double(bitPattern: try c.u64(what)))
        case .bool:
            let b = try c.u8(what)
            guard b <= 1 else { throw c.fail("metadata '\(key)': bool value \(b) is neither 0 nor 1") }
            return .bool(b == 1)
        case .string: return .string(Array(try c.string(what)))
        case .array:
            guard depth < GGUFLimits.maxArrayNesting else {
                throw c.fail("metadata '\(key)': arrays nested deeper than \(GGUFLimits.maxArrayNesting)")
            }
            let elementID = try c.u32("array element type of '\(key)'")
            guard let element = GGUFValueType(rawValue: elementID) else {
                throw c.fail("metadata '\(key)': array has unknown element type \(elementID)")
            }
            let count = try c.u64("array length of '\(key)'")
            guard count <= UInt64(c.remaining / element.minimumSize) else {
                throw c.fail("metadata '\(key)': array of \(count) \(element.name) values runs past the end of the file")
            }
            let start = c.position
            if let size = element.fixedSize {
                c.position += Int(count) * size
                if element == .bool {
                    if let bad = c.bytes[start..<c.position].first(where: { $0 > 1 }) {
                        throw c.fail("metadata '\(key)': bool value \(bad) is neither 0 nor 1")
                    }
                }
            } else {
                for _ in 0..<Int(count) { _ = try parseValue(element, key: key, depth: depth + 1, &c) }
            }
            return .array(GGUFArray(elementType: element, count: Int(count), bytes: start..<c.position))
        }
    }

    private static func parseTensorInfo(_ c: inout GGUFCursor) throws(MoESlimError) -> GGUFTensorInfo {
        let start = c.position
        let raw = try c.string("tensor name")
        guard !raw.isEmpty else { throw c.fail("tensor name at byte \(start) is empty") }
        guard let name = String(validating: raw, as: UTF8.self) else { throw c.fail("tensor name at byte \(start) is not valid UTF-8") }
        guard raw.count <= GGUFLimits.maxTensorNameBytes else {
            throw c.fail("name is \(raw.count) bytes, over llama.cpp's limit of \(GGUFLimits.maxTensorNameBytes)", tensor: name)
        }
        let nDims = try c.u32("dimension count of '\(name)'")
        guard nDims >= 1, nDims <= UInt32(GGUFLimits.maxDims) else {
            throw c.fail("has \(nDims) dimensions; GGUF allows 1 to \(GGUFLimits.maxDims)", tensor: name)
        }
        var dims: [Int] = []
        var elements = 1
        for _ in 0..<Int(nDims) {
            let d = try c.u64("dimensions of '\(name)'")
            let (product, o) = elements.multipliedReportingOverflow(by: Int(truncatingIfNeeded: d))
            guard d <= UInt64(Int.max), !o else {
                throw c.fail("dimension \(d) makes an element count that overflows 63 bits", tensor: name)
            }
            elements = product
            dims.append(Int(d))
        }
        let typeID = try c.u32("type of '\(name)'")
        guard let type = GGMLType.of(typeID) else { throw c.fail("unknown ggml type \(typeID)", tensor: name) }
        guard dims[0] % type.blockSize == 0 else {
            throw c.fail("rows of \(dims[0]) elements are not whole \(type.name) blocks of \(type.blockSize)", tensor: name)
        }
        let offset = try c.u64("offset of '\(name)'")
        guard let rowBytes = type.bytes(forRowOf: dims[0]) else {
            throw c.fail("size overflows 63 bits", tensor: name)
        }
        var byteCount = rowBytes
        for d in dims.dropFirst() {
            let (b, o) = byteCount.multipliedReportingOverflow(by: d)
            guard !o else { throw c.fail("size overflows 63 bits", tensor: name) }
            byteCount = b
        }
        guard offset <= UInt64(Int.max) else { throw c.fail("offset \(offset) overflows 63 bits", tensor: name) }
        return GGUFTensorInfo(name: name, dims: dims, type: type, offset: Int(offset), byteCount: byteCount)
    }

    /// Tensors lie in the order of their infos, each at the previous one's end rounded up to the alignment
    /// (the first at 0), as llama.cpp's loader requires: aligned, no overlap, no gap, inside the file. Returns
    /// where the last one ends; only the padding after it may follow.
    private static func checkLayout(_ tensors: [GGUFTensorInfo], alignment: Int, available: Int, _ c: GGUFCursor) throws(MoESlimError) -> Int {
        var expected = 0
        var end = 0
        for t in tensors {
            guard t.offset % alignment == 0 else {
                throw c.fail("offset \(t.offset) is not a multiple of the alignment \(alignment)", tensor: t.name)
            }
            if t.offset < expected {
                throw c.fail("data at offset \(t.offset) overlaps the previous tensor, which ends at \(end)", tensor: t.name)
            }
            if t.offset > expected {
                throw c.fail("data at offset \(t.offset) leaves a gap after the previous tensor, which ends at \(end) (next aligned offset \(expected))", tensor: t.name)
            }
            let (e, o) = t.offset.addingReportingOverflow(t.byteCount)
            guard !o, e <= available else {
                throw c.fail("data [\(t.offset), \(t.offset &+ t.byteCount)) runs past the end of the file (the data section holds \(available) bytes)", tensor: t.name)
            }
            end = e
            expected = e + (alignment - e % alignment) % alignment
        }
        let trailing = available - end
        guard trailing < alignment || trailing == 0 else {
            throw c.fail("the data section has \(trailing) bytes after its last tensor, more than alignment padding")
        }
        return end
    }
}
