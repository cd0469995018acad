/// A JSON document that keeps what Foundation's parser throws away: key order, duplicate keys (so they can be
/// refused), and each number's literal text (so a rewritten config.json keeps `1e-05` as `1e-05`).
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.string(a), .string(b)): return a.sameBytes(as: b)
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key.sameBytes(as: $1.key) && $0.value == $1.value }
        default: return false
        }
    }

    /// Keys match by bytes, so a key that is only canonically equivalent to `key` is a different key.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last(where: { $0.key.sameBytes(as: key) })?.value
    }

    public var objectMembers: [(key: String, value: JSONValue)]? {
        if case .object(let m) = self { return m }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// Only integral literals: "8.0" or "1e3" are not accepted where an integer is required.
    public var intValue: Int? {
        if case .number(let s) = self { return Int(s) }
        return nil
    }

    public var doubleValue: Double? {
        if case .number(let s) = self { return Double(s) }
        return nil
    }

    public static func int(_ v: Int) -> JSONValue { .number(String(v)) }

    /// Replaces or appends a member, keeping the position of an existing key.
    public mutating func set(_ key: String, _ value: JSONValue) {
        guard case .object(var members) = self else { return }
        if let i = members.firstIndex(where: { $0.key.sameBytes(as: key) }) {
            members[i].value = value
        } else {
            members.append((key, value))
        }
        self = .object(members)
    }
}
