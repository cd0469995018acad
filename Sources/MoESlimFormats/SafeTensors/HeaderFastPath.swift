/// Reads a well-formed header straight into a TensorTable, without a JSON tree or a String per field: a
/// DeepSeek-V3 header has about 90,000 entries. It accepts only the plain form writers produce (ASCII names
/// without escapes, integers without sign, fraction or exponent, the three known fields, no duplicates, no NUL
/// byte anywhere) and returns nil on anything else, so every error still comes from the strict path with its
/// exact message.
enum HeaderFastPath {
    struct Result {
        /// In the order the header lists the tensors.
        var table: TensorTable
        var metadata: [(key: String, value: String)]?
    }

    /// `bytes` lie inside `region`, which the table's names will be ranges of.
    static func scan(_ bytes: UnsafeRawBufferPointer, in region: ByteRegion) -> Result? {
        guard let origin = region.bytes.baseAddress else { return nil }
        var s = PlainJSONScanner(bytes)
        var builder = TensorTableBuilder(expectedCount: bytes.count / 64)
        var metadata: [(key: String, value: String)]?
        var shape: [Int] = []
        guard s.take(UInt8(ascii: "{")) else { return nil }
        s.skipWhitespace()
        if s.current == UInt8(ascii: "}") {
            s.pos += 1
        } else {
            while true {
                guard let name = s.plainString(), s.take(UInt8(ascii: ":")) else { return nil }
                if name.spells("__metadata__") {
                    guard metadata == nil, let entries = metadataEntries(&s) else { return nil }
                    metadata = entries
                } else {
                    guard let (dtype, begin, end) = entry(&s, shape: &shape) else { return nil }
                    builder.add(nameStart: name.baseAddress! - origin, nameCount: name.count, hash: NameHash.of(name),
                                dtype: dtype, shape: shape, begin: begin, end: end)
                }
                guard let closed = s.closes(UInt8(ascii: "}")) else { return nil }
                if closed { break }
            }
        }
        s.skipWhitespace()
        guard s.atEnd, let table = builder.table(names: region) else { return nil }
        return Result(table: table, metadata: metadata)
    }

    private static func metadataEntries(_ s: inout PlainJSONScanner) -> [(key: String, value: String)]? {
        guard let members = s.strictValue(depth: 1)?.objectMembers else { return nil }
        var entries: [(key: String, value: String)] = []
        for (key, value) in members {
            guard let text = value.stringValue else { return nil }
            entries.append((key, text))
        }
        return entries
    }

    /// One tensor's object, its fields in any order and each exactly once, with a byte count its offsets span.
    private static func entry(_ s: inout PlainJSONScanner, shape: inout [Int]) -> (DType, Int, Int)? {
        guard s.take(UInt8(ascii: "{")) else { return nil }
        var dtype: DType?
        var hasShape = false
        var offsets: (begin: Int, end: Int)?
        while true {
            guard let key = s.plainString(), s.take(UInt8(ascii: ":")) else { return nil }
            if key.spells("dtype") {
                guard dtype == nil, let text = s.plainString(), let d = DType(spelling: text) else { return nil }
                dtype = d
            } else if key.spells("shape") {
                shape.removeAll(keepingCapacity: true)
                guard !hasShape, s.naturals(into: &shape) else { return nil }
                hasShape = true
            } else if key.spells("data_offsets") {
                guard offsets == nil, s.take(UInt8(ascii: "[")), let begin = s.natural(), s.take(UInt8(ascii: ",")),
                      let end = s.natural(), s.take(UInt8(ascii: "]")) else { return nil }
                offsets = (begin, end)
            } else {
                return nil
            }
            guard let closed = s.closes(UInt8(ascii: "}")) else { return nil }
            if closed { break }
        }
        guard let dtype, hasShape, let offsets, offsets.end >= offsets.begin,
              TensorInfo.byteCount(dtype: dtype, shape: shape) == offsets.end - offsets.begin else { return nil }
        return (dtype, offsets.begin, offsets.end)
    }
}
