/// A value inside a chat template: what Jinja sees of Python's None, bool, int, float, str, list, dict, plus
/// the namespace() object templates use to carry state out of loops and the macros they define.
indirect enum JinjaValue {
    case undefined
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case list([JinjaValue])
    case dict([(key: String, value: JinjaValue)])
    case namespace(JinjaNamespace)
    case macro(JinjaMacro)
    /// A method looked up on a value (`content.split`), called by the next `(...)`.
    case method(receiver: JinjaValue, name: String)
    /// A global function such as `raise_exception` or `namespace`.
    case function(String)

    /// Python truthiness, with Jinja's undefined as false.
    var truthy: Bool {
        switch self {
        case .undefined, .none: false
        case .bool(let b): b
        case .int(let i): i != 0
        case .float(let f): f != 0
        case .string(let s): !s.utf8.isEmpty
        case .list(let l): !l.isEmpty
        case .dict(let d): !d.isEmpty
        case .namespace, .macro, .method, .function: true
        }
    }

    var typeName: String {
        switch self {
        case .undefined: "undefined"
        case .none: "none"
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .string: "string"
        case .list: "list"
        case .dict: "dict"
        case .namespace: "namespace"
        case .macro: "macro"
        case .method: "method"
        case .function: "function"
        }
    }

    /// A dict member, keys compared as bytes (never String ==, which applies canonical equivalence).
    func member(_ key: String) -> JinjaValue? {
        guard case .dict(let pairs) = self else { return nil }
        return pairs.first { $0.key.utf8.elementsEqual(key.utf8) }?.value
    }
}

/// Python `==` between values: strings by code points, numbers across int/float, containers element-wise.
func jinjaEqual(_ a: JinjaValue, _ b: JinjaValue) -> Bool {
    switch (a, b) {
    case (.undefined, .undefined), (.none, .none): true
    case (.bool(let x), .bool(let y)): x == y
    case (.int(let x), .int(let y)): x == y
    case (.float(let x), .float(let y)): x == y
    case (.int(let x), .float(let y)), (.float(let y), .int(let x)): Double(x) == y
    case (.bool(let x), .int(let y)), (.int(let y), .bool(let x)): (x ? 1 : 0) == y
    case (.string(let x), .string(let y)): x.utf8.elementsEqual(y.utf8)
    case (.list(let x), .list(let y)): x.count == y.count && zip(x, y).allSatisfy { jinjaEqual($0, $1) }
    case (.dict(let x), .dict(let y)):
        x.count == y.count && x.allSatisfy { pair in b.member(pair.key).map { jinjaEqual(pair.value, $0) } ?? false }
    case (.namespace(let x), .namespace(let y)): x === y
    default: false
    }
}

/// `namespace(...)`: the one mutable object a template has, so `{% set ns.x = ... %}` inside a loop is seen after it.
final class JinjaNamespace {
    var attributes: [(key: String, value: JinjaValue)]
    init(_ attributes: [(key: String, value: JinjaValue)]) { self.attributes = attributes }

    subscript(name: String) -> JinjaValue? {
        attributes.first { $0.key.utf8.elementsEqual(name.utf8) }?.value
    }

    func set(_ name: String, _ value: JinjaValue) {
        if let i = attributes.firstIndex(where: { $0.key.utf8.elementsEqual(name.utf8) }) {
            attributes[i].value = value
        } else {
            attributes.append((name, value))
        }
    }
}

/// `{% macro name(params) %}body{% endmacro %}`.
final class JinjaMacro {
    let name: String
    let parameters: [(name: String, defaultValue: JinjaExpression?)]
    let body: [JinjaStatement]
    init(name: String, parameters: [(name: String, defaultValue: JinjaExpression?)], body: [JinjaStatement]) {
        self.name = name
        self.parameters = parameters
        self.body = body
    }
}
