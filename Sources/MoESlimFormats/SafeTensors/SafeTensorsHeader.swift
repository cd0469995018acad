#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MoESlimSupport

/// The parsed and validated header of one safetensors file. Parsing reads only the header bytes, so questions
/// about names, shapes and sizes never touch tensor data.
public struct SafeTensorsHeader: Sendable {
    /// The reference implementation's bound; a larger header is refused before it is read.
    public static let maxHeaderLength = 100_000_000

    public let metadata: [(key: String, value: String)]?
    /// 8 + header length: where the data buffer starts in the file.
    public let dataStart: Int
    public let dataLength: Int
    /// Tensors in data-offset order, which is also the order they are laid out in the file.
    package let table: TensorTable

    public var count: Int { table.count }

    /// Tensors in data-offset order. Made afresh on each call, one shape array and one String per tensor: code
    /// that walks a large header reads `table` instead.
    public var tensors: [TensorInfo] { (0..<table.count).map(table.info(at:)) }

    /// Made afresh on each call, one String per tensor.
    public var names: [String] { table.names }

    public func tensor(named name: String) -> TensorInfo? {
        table.position(of: name).map(table.info(at:))
    }

    /// Reads the 8-byte little-endian length and the header it announces from the start of a whole file in
    /// memory (the fuzzer's); the header is copied, as the table's names are ranges of it.
    public static func parse(file: UnsafeRawBufferPointer, path: String) throws(MoESlimError) -> SafeTensorsHeader {
        try SafeTensorsHeader(headerBytes: headerBytes(of: file, path: path), fileSize: file.count, path: path)
    }

    /// The same for a mapped file (nil when it is empty), whose header stays in place: names are ranges of the mapping.
    static func parse(region: ByteRegion?, path: String) throws(MoESlimError) -> SafeTensorsHeader {
        guard let region else { return try parse(file: UnsafeRawBufferPointer(start: nil, count: 0), path: path) }
        let header = try headerBytes(of: region.bytes, path: path)
        return try SafeTensorsHeader(header: header, in: region, fileSize: region.bytes.count, path: path)
    }

    /// The header the 8-byte length announces, every length rule checked before anything else is read.
    private static func headerBytes(of file: UnsafeRawBufferPointer, path: String) throws(MoESlimError) -> UnsafeRawBufferPointer {
        guard let base = file.baseAddress, file.count >= 8 else {
            throw MoESlimError(.invalidHeader, "file is \(file.count) bytes, too short for the 8-byte header length", path: path)
        }
        let raw = base.loadUnaligned(as: UInt64.self).littleEndian
        guard raw <= UInt64(maxHeaderLength) else {
            throw MoESlimError(.invalidHeader, "header length \(raw) exceeds the 100 MB limit", path: path)
        }
        let length = Int(raw)
        guard 8 + length <= file.count else {
            throw MoESlimError(.invalidHeader, "header length \(length) runs past the end of the \(file.count)-byte file", path: path)
        }
        return UnsafeRawBufferPointer(start: base + 8, count: length)
    }

    /// Validates every rule of formats/safetensors.md; `path` only labels errors. The header is copied.
    public init(headerBytes: UnsafeRawBufferPointer, fileSize: Int, path: String) throws(MoESlimError) {
        let copy = ByteRegion(copying: headerBytes)
        try self.init(header: copy.bytes, in: copy, fileSize: fileSize, path: path)
    }

    /// `header` lies inside `region`, which then holds the table's names.
    private init(header headerBytes: UnsafeRawBufferPointer, in region: ByteRegion, fileSize: Int, path: String) throws(MoESlimError) {
        func bad(_ message: String, tensor: String? = nil) -> MoESlimError {
            MoESlimError(.invalidHeader, message, path: path, tensor: tensor)
        }
        guard let first = headerBytes.first else { throw bad("header is empty") }
        guard first == UInt8(ascii: "{") else {
            throw bad(first == 0xEF ? "header starts with a byte order mark" : "header does not start with '{'")
        }
        var trimmed = headerBytes.count
        while trimmed > 0, headerBytes[trimmed - 1] == 0x20 { trimmed -= 1 }
        let body = UnsafeRawBufferPointer(rebasing: headerBytes[..<trimmed])
        let parsed: HeaderFastPath.Result
        if let fast = HeaderFastPath.scan(body, in: region) {
            parsed = fast
        } else {
            // The fast path refuses a NUL anywhere, so the NUL rule, which comes before the JSON rules, is
            // checked only here.
            if memchr(body.baseAddress!, 0, body.count) != nil { throw bad("header contains a NUL byte") }
            parsed = try Self.strictParse(body, bad: bad)
        }
        let table = parsed.table.isInDataOrder ? parsed.table : parsed.table.inDataOrder()

        let dataStart = 8 + headerBytes.count
        let dataLength = fileSize - dataStart
        var expected = 0
        for (i, t) in table.entries.enumerated() {
            if t.begin < expected {
                throw bad("data_offsets [\(t.begin), \(t.end)] overlap the previous tensor (ends at \(expected))", tensor: table.name(at: i))
            }
            if t.begin > expected {
                throw bad("data_offsets [\(t.begin), \(t.end)] leave a gap after byte \(expected)", tensor: table.name(at: i))
            }
            if t.end > dataLength {
                throw bad("data_offsets [\(t.begin), \(t.end)] run past the end of the file (data is \(dataLength) bytes)", tensor: table.name(at: i))
            }
            expected = t.end
        }
        if expected != dataLength {
            throw bad("the data buffer has \(dataLength - expected) bytes that no tensor covers")
        }

        self.table = table
        self.metadata = parsed.metadata
        self.dataStart = dataStart
        self.dataLength = dataLength
    }

    /// The slow, exact path: a full JSON tree, every rule checked in order with its own message.
    private static func strictParse(
        _ body: UnsafeRawBufferPointer, bad: (String, String?) -> MoESlimError
    ) throws(MoESlimError) -> HeaderFastPath.Result {
        let json: JSONValue
        do {
            json = try JSONParser.parse(body)
        } catch {
            throw bad("header is not valid JSON: \(error)", nil)
        }
        guard let members = json.objectMembers else { throw bad("header is not a JSON object", nil) }
        var builder = TensorTableBuilder(expectedCount: members.count)
        var spelled: [UInt8] = []
        var metadata: [(key: String, value: String)]?
        for (name, value) in members {
            if name.sameBytes(as: "__metadata__") {
                guard let entries = value.objectMembers else { throw bad("__metadata__ is not an object", nil) }
                metadata = try entries.map { (key, v) throws(MoESlimError) in
                    guard let s = v.stringValue else {
                        throw bad("__metadata__ value for '\(key)' is not a string", nil)
                    }
                    return (key, s)
                }
                continue
            }
            let t = try Self.tensorInfo(name: name, value: value, bad: bad)
            builder.add(nameStart: spelled.count, nameCount: name.utf8.count, hash: NameHash.of(name),
                        dtype: t.dtype, shape: t.shape, begin: t.begin, end: t.end)
            spelled.append(contentsOf: name.utf8)
        }
        let names = spelled.withUnsafeBytes { ByteRegion(copying: $0) }
        return HeaderFastPath.Result(table: builder.distinctTable(names: names), metadata: metadata)
    }

    private static func tensorInfo(
        name: String, value: JSONValue, bad: (String, String?) -> MoESlimError
    ) throws(MoESlimError) -> TensorInfo {
        guard let fields = value.objectMembers else { throw bad("entry is not an object", name) }
        var dtype: DType?
        var shape: [Int]?
        var offsets: [Int]?
        for (key, v) in fields {
            switch ByteName(key) {
            case "dtype":
                guard let s = v.stringValue else { throw bad("dtype is not a string", name) }
                var spelled = s
                guard let d = spelled.withUTF8({ DType(spelling: UnsafeRawBufferPointer($0)) }) else { throw bad("unknown dtype '\(s)'", name) }
                dtype = d
            case "shape":
                guard let dims = v.arrayValue else { throw bad("shape is not a list", name) }
                shape = try dims.map { (d: JSONValue) throws(MoESlimError) -> Int in
                    guard case .number(let text) = d else { throw bad("shape has a non-integer dimension", name) }
                    switch HeaderInteger(text) {
                    case .value(let n): return n
                    case .negative: throw bad("shape dimension \(text) is negative", name)
                    case .notInteger: throw bad("shape dimension \(text) is not a non-negative integer", name)
                    case .tooLarge: throw bad("shape dimension \(text) is too large", name)
                    }
                }
            case "data_offsets":
                guard let pair = v.arrayValue, pair.count == 2 else { throw bad("data_offsets is not a pair", name) }
                offsets = try pair.map { (o: JSONValue) throws(MoESlimError) -> Int in
                    guard case .number(let text) = o, case .value(let n) = HeaderInteger(text) else {
                        throw bad("data_offsets entry is not a non-negative integer", name)
                    }
                    return n
                }
            default:
                throw bad("unexpected field '\(key)'", name)
            }
        }
        guard let dtype else { throw bad("missing dtype", name) }
        guard let shape else { throw bad("missing shape", name) }
        guard let offsets else { throw bad("missing data_offsets", name) }
        let (begin, end) = (offsets[0], offsets[1])
        guard end >= begin else { throw bad("data_offsets [\(begin), \(end)] end before they begin", name) }
        guard let bits = TensorInfo.bitCount(dtype: dtype, shape: shape) else {
            throw bad("shape \(shape) of \(dtype.rawValue) has a size that overflows 64 bits", name)
        }
        guard bits % 8 == 0 else {
            throw bad("shape \(shape) of \(dtype.rawValue) is \(bits) bits, not a whole number of bytes", name)
        }
        let bytes = bits / 8
        guard bytes == end - begin else {
            throw bad("shape \(shape) of \(dtype.rawValue) needs \(bytes) bytes but data_offsets span \(end - begin)", name)
        }
        return TensorInfo(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }
}
