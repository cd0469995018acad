import CJSONC
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A json-c document. json-c keeps object keys and strings as bytes, so a vocabulary can hold two keys that
/// Swift's String would call equal (canonical equivalence), and a 100 MB corpus line parses without building
/// Swift values for fields we never read.
final class JSONCDocument {
    let root: JSONCNode
    private let object: OpaquePointer

    /// Returns the parse error as text so each caller can name its own file and line.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> Result<JSONCDocument, JSONCFailure> {
        guard let tokener = json_tokener_new_ex(64) else { return .failure(JSONCFailure("out of memory")) }
        defer { json_tokener_free(tokener) }
        json_tokener_set_flags(tokener, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8)
        guard bytes.count < Int32.max else { return .failure(JSONCFailure("document larger than 2 GB")) }
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self), !bytes.isEmpty else {
            return .failure(JSONCFailure("empty input"))
        }
        let parsed = json_tokener_parse_ex(tokener, base, Int32(bytes.count))
        let error = json_tokener_get_error(tokener)
        guard let parsed, error == json_tokener_success else {
            if let parsed { json_object_put(parsed) }
            let reason = error == json_tokener_continue
                ? "unexpected end of input" : String(cString: json_tokener_error_desc(error))
            return .failure(JSONCFailure(reason))
        }
        var end = json_tokener_get_parse_end(tokener)
        while end < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[end]) { end += 1 }
        guard end == bytes.count else {
            json_object_put(parsed)
            return .failure(JSONCFailure("unexpected data after the JSON value at byte \(end)"))
        }
        return .success(JSONCDocument(parsed))
    }

    static func parse(_ bytes: [UInt8]) -> Result<JSONCDocument, JSONCFailure> {
        bytes.withUnsafeBytes { parse($0) }
    }

    private init(_ object: OpaquePointer) {
        self.object = object
        self.root = JSONCNode(object)
    }

    deinit { json_object_put(object) }
}

struct JSONCFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A borrowed view of a value inside a JSONCDocument; valid only while the document is alive.
struct JSONCNode {
    fileprivate let object: OpaquePointer?

    fileprivate init(_ object: OpaquePointer?) { self.object = object }

    var isNull: Bool { object == nil || json_object_get_type(object) == json_type_null }
    var isString: Bool { json_object_get_type(object) == json_type_string }
    var isObject: Bool { object != nil && json_object_get_type(object) == json_type_object }
    var isArray: Bool { object != nil && json_object_get_type(object) == json_type_array }

    subscript(key: String) -> JSONCNode? {
        guard isObject else { return nil }
        var out: OpaquePointer?
        guard json_object_object_get_ex(object, key, &out) != 0 else { return nil }
        return JSONCNode(out)
    }

    /// UTF-8 bytes exactly as in the document (after unescaping), embedded NULs included.
    var bytes: [UInt8]? {
        guard object != nil, isString, let text = json_object_get_string(object) else { return nil }
        let count = Int(json_object_get_string_len(object))
        return text.withMemoryRebound(to: UInt8.self, capacity: count) { Array(UnsafeBufferPointer(start: $0, count: count)) }
    }

    var string: String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

    var int: Int? {
        guard object != nil, json_object_get_type(object) == json_type_int else { return nil }
        return Int(json_object_get_int64(object))
    }

    var bool: Bool? {
        guard object != nil, json_object_get_type(object) == json_type_boolean else { return nil }
        return json_object_get_boolean(object) != 0
    }

    var array: [JSONCNode]? {
        guard isArray else { return nil }
        let count = json_object_array_length(object)
        return (0..<count).map { JSONCNode(json_object_array_get_idx(object, $0)) }
    }

    /// Members in document order; keys as bytes because vocabulary keys must not be compared as Strings.
    var members: [(key: [UInt8], value: JSONCNode)]? {
        guard isObject else { return nil }
        var result: [(key: [UInt8], value: JSONCNode)] = []
        result.reserveCapacity(Int(json_object_object_length(object)))
        var iterator = json_object_iter_begin(object)
        var end = json_object_iter_end(object)
        while json_object_iter_equal(&iterator, &end) == 0 {
            let name = json_object_iter_peek_name(&iterator)!
            let key = Array(UnsafeRawBufferPointer(start: name, count: strlen(name)))
            result.append((key, JSONCNode(json_object_iter_peek_value(&iterator))))
            json_object_iter_next(&iterator)
        }
        return result
    }
}
