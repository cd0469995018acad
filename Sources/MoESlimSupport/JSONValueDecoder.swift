/// Decodes a `Decodable` straight from a parsed `JSONValue`, so config.json is parsed once per command (by
/// `JSONParser`, which refuses duplicate keys and keeps number literals) and each family's `Config` is read
/// from that value rather than from the file again. Integers follow Foundation's JSONDecoder: an integral
/// literal, or a number that is exactly an integer ("8.0"); anything else is a type or data error naming the key.
package struct JSONValueDecoder: Decoder {
    package let value: JSONValue
    package let codingPath: [CodingKey]
    package var userInfo: [CodingUserInfoKey: Any] { [:] }

    package init(_ value: JSONValue, codingPath: [CodingKey] = []) {
        self.value = value
        self.codingPath = codingPath
    }

    package func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard let members = value.objectMembers else { throw Self.mismatch([String: JSONValue].self, value, codingPath) }
        return KeyedDecodingContainer(Keyed<Key>(members: members, codingPath: codingPath))
    }

    package func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard let items = value.arrayValue else { throw Self.mismatch([JSONValue].self, value, codingPath) }
        return Unkeyed(items: items, codingPath: codingPath)
    }

    package func singleValueContainer() throws -> SingleValueDecodingContainer { Single(value: value, codingPath: codingPath) }

    /// One JSON value as T: the scalar types directly, anything else through its own `init(from:)`.
    package static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue, at path: [CodingKey]) throws -> T {
        switch type {
        case is Bool.Type:
            guard let b = value.boolValue else { throw mismatch(type, value, path) }
            return b as! T
        case is String.Type:
            guard let s = value.stringValue else { throw mismatch(type, value, path) }
            return s as! T
        case is Double.Type:
            guard case .number(let text) = value, let d = Double(text) else { throw mismatch(type, value, path) }
            return d as! T
        case is Int.Type:
            guard case .number(let text) = value else { throw mismatch(type, value, path) }
            guard let n = Int(text) ?? Double(text).flatMap({ Int(exactly: $0) }) else {
                throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "Number \(text) is not representable as Int"))
            }
            return n as! T
        case is Float.Type:
            guard case .number(let text) = value, let f = Float(text) else { throw mismatch(type, value, path) }
            return f as! T
        case is any BinaryInteger.Type, is any BinaryFloatingPoint.Type:
            // Configs read Int, Double and Float only; other widths would decode through this same function forever.
            throw DecodingError.typeMismatch(type, .init(codingPath: path, debugDescription: "not a config type"))
        default:
            return try T(from: JSONValueDecoder(value, codingPath: path))
        }
    }

    static func mismatch(_ type: Any.Type, _ value: JSONValue, _ path: [CodingKey]) -> DecodingError {
        value == .null
            ? .valueNotFound(type, .init(codingPath: path, debugDescription: "null"))
            : .typeMismatch(type, .init(codingPath: path, debugDescription: "wrong type"))
    }

    private struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let members: [(key: String, value: JSONValue)]
        let codingPath: [CodingKey]

        var allKeys: [Key] { members.compactMap { Key(stringValue: $0.key) } }

        /// The last member of that name, compared as bytes, as `JSONValue`'s subscript finds it.
        private func member(_ key: Key) -> JSONValue? {
            members.last { $0.key.sameBytes(as: key.stringValue) }?.value
        }

        private func required(_ key: Key) throws -> JSONValue {
            guard let value = member(key) else {
                throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing"))
            }
            return value
        }

        func contains(_ key: Key) -> Bool { member(key) != nil }

        func decodeNil(forKey key: Key) throws -> Bool { try required(key) == .null }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            try JSONValueDecoder.decode(type, from: required(key), at: codingPath + [key])
        }

        func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
            guard let value = member(key), value != .null else { return nil }
            return try JSONValueDecoder.decode(type, from: value, at: codingPath + [key])
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            try JSONValueDecoder(required(key), codingPath: codingPath + [key]).container(keyedBy: type)
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
            try JSONValueDecoder(required(key), codingPath: codingPath + [key]).unkeyedContainer()
        }

        func superDecoder() throws -> Decoder { JSONValueDecoder(.object(members), codingPath: codingPath) }

        func superDecoder(forKey key: Key) throws -> Decoder {
            JSONValueDecoder(member(key) ?? .null, codingPath: codingPath + [key])
        }
    }

    private struct Unkeyed: UnkeyedDecodingContainer {
        let items: [JSONValue]
        let codingPath: [CodingKey]
        var currentIndex = 0

        init(items: [JSONValue], codingPath: [CodingKey]) {
            self.items = items
            self.codingPath = codingPath
        }

        var count: Int? { items.count }
        var isAtEnd: Bool { currentIndex >= items.count }

        private struct Index: CodingKey {
            var stringValue: String { String(intValue!) }
            var intValue: Int?
            init(_ i: Int) { intValue = i }
            init?(stringValue: String) { nil }
            init?(intValue: Int) { self.intValue = intValue }
        }

        private mutating func next() throws -> (JSONValue, [CodingKey]) {
            guard !isAtEnd else {
                throw DecodingError.valueNotFound(JSONValue.self, .init(codingPath: codingPath, debugDescription: "the list has ended"))
            }
            defer { currentIndex += 1 }
            return (items[currentIndex], codingPath + [Index(currentIndex)])
        }

        mutating func decodeNil() throws -> Bool {
            guard !isAtEnd, items[currentIndex] == .null else { return false }
            currentIndex += 1
            return true
        }

        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            let (value, path) = try next()
            return try JSONValueDecoder.decode(type, from: value, at: path)
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            let (value, path) = try next()
            return try JSONValueDecoder(value, codingPath: path).container(keyedBy: type)
        }

        mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
            let (value, path) = try next()
            return try JSONValueDecoder(value, codingPath: path).unkeyedContainer()
        }

        mutating func superDecoder() throws -> Decoder {
            let (value, path) = try next()
            return JSONValueDecoder(value, codingPath: path)
        }
    }

    private struct Single: SingleValueDecodingContainer {
        let value: JSONValue
        let codingPath: [CodingKey]

        func decodeNil() -> Bool { value == .null }

        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try JSONValueDecoder.decode(type, from: value, at: codingPath)
        }
    }
}
