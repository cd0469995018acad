/// Reads a well-formed header straight into TensorInfo values, without building a JSON tree: a DeepSeek-V3
/// header has about 100,000 entries and the tree costs most of the time `report` takes. It accepts only the
/// plain form writers produce (integers without fraction or exponent, the three known fields, no duplicates)
/// and returns nil on anything else, so every error still comes from the strict path with its exact message.
struct HeaderFastPath {
    struct Result {
        var tensors: [TensorInfo]
        var positions: [String: Int]
        var metadata: [(key: String, value: String)]?
    }

    static func scan(_ bytes: UnsafeRawBufferPointer) -> Result? {
        var p = JSONParser(bytes: bytes, maxDepth: 64)
        var tensors: [TensorInfo] = []
        var positions: [String: Int] = [:]
        var metadata: [(key: String, value: String)]?
        p.skipWhitespace()
        guard p.current == UInt8(ascii: "{") else { return nil }
        p.pos += 1
        p.skipWhitespace()
        if p.current == UInt8(ascii: "}") {
            p.pos += 1
        } else {
            while true {
                p.skipWhitespace()
                guard p.current == UInt8(ascii: "\""), let name = try? p.parseString() else { return nil }
                guard colon(&p) else { return nil }
                if name == "__metadata__" {
                    guard metadata == nil, let value = try? p.parseValue(depth: 1), let members = value.objectMembers else { return nil }
                    var entries: [(key: String, value: String)] = []
                    for (key, v) in members {
                        guard let text = v.stringValue else { return nil }
                        entries.append((key, text))
                    }
                    metadata = entries
                } else {
                    guard let info = entry(&p, name: name), positions.updateValue(tensors.count, forKey: name) == nil else { return nil }
                    tensors.append(info)
                }
                p.skipWhitespace()
                guard let c = p.current else { return nil }
                p.pos += 1
                if c == UInt8(ascii: "}") { break }
                guard c == UInt8(ascii: ",") else { return nil }
            }
        }
        p.skipWhitespace()
        guard p.pos == bytes.count else { return nil }
        return Result(tensors: tensors, positions: positions, metadata: metadata)
    }

    private static func colon(_ p: inout JSONParser) -> Bool {
        p.skipWhitespace()
        guard p.current == UInt8(ascii: ":") else { return false }
        p.pos += 1
        p.skipWhitespace()
        return true
    }

    private static func entry(_ p: inout JSONParser, name: String) -> TensorInfo? {
        guard p.current == UInt8(ascii: "{") else { return nil }
        p.pos += 1
        var dtype: DType?
        var shape: [Int]?
        var offsets: [Int]?
        while true {
            p.skipWhitespace()
            guard p.current == UInt8(ascii: "\""), let key = try? p.parseString(), colon(&p) else { return nil }
            switch key {
            case "dtype":
                guard dtype == nil, p.current == UInt8(ascii: "\""), let text = try? p.parseString(),
                      let d = DType(rawValue: text) else { return nil }
                dtype = d
            case "shape":
                guard shape == nil, let dims = integers(&p) else { return nil }
                shape = dims
            case "data_offsets":
                guard offsets == nil, let pair = integers(&p), pair.count == 2 else { return nil }
                offsets = pair
            default:
                return nil
            }
            p.skipWhitespace()
            guard let c = p.current else { return nil }
            p.pos += 1
            if c == UInt8(ascii: "}") { break }
            guard c == UInt8(ascii: ",") else { return nil }
        }
        guard let dtype, let shape, let offsets, offsets[1] >= offsets[0],
              TensorInfo.byteCount(dtype: dtype, shape: shape) == offsets[1] - offsets[0] else { return nil }
        return TensorInfo(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
    }

    /// A list of non-negative integers written plainly; anything else (signs, fractions, overflow) is nil.
    private static func integers(_ p: inout JSONParser) -> [Int]? {
        guard p.current == UInt8(ascii: "[") else { return nil }
        p.pos += 1
        var values: [Int] = []
        p.skipWhitespace()
        if p.current == UInt8(ascii: "]") { p.pos += 1; return values }
        while true {
            p.skipWhitespace()
            guard let first = p.current, first >= 0x30, first <= 0x39 else { return nil }
            var value = 0
            var digits = 0
            while let c = p.current, c >= 0x30, c <= 0x39 {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int(c - 0x30))
                guard !o1, !o2 else { return nil }
                value = a
                digits += 1
                p.pos += 1
            }
            if first == 0x30 && digits > 1 { return nil }
            if let c = p.current, c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { return nil }
            values.append(value)
            p.skipWhitespace()
            guard let c = p.current else { return nil }
            p.pos += 1
            if c == UInt8(ascii: "]") { return values }
            guard c == UInt8(ascii: ",") else { return nil }
        }
    }
}
