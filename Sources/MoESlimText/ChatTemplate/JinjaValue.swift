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

/// Python `==` between values: strings by code points, numbers across int/float, containers element-wise,
/// every item compared paid from `fuel` (lists that share sub-lists are cheap to build and costly to compare).
func jinjaEqual(_ a: JinjaValue, _ b: JinjaValue, fuel: JinjaFuel) throws(ChatTemplateFailure) -> Bool {
    try fuel.spend(JinjaFuel.perValue)
    switch (a, b) {
    case (.undefined, .undefined), (.none, .none): return true
    case (.bool(let x), .bool(let y)): return x == y
    case (.int(let x), .int(let y)): return x == y
    case (.float(let x), .float(let y)): return x == y
    case (.int(let x), .float(let y)), (.float(let y), .int(let x)): return Double(x) == y
    case (.bool(let x), .int(let y)), (.int(let y), .bool(let x)): return (x ? 1 : 0) == y
    case (.string(let x), .string(let y)):
        try fuel.spend(min(x.utf8.count, y.utf8.count))
        return x.utf8.elementsEqual(y.utf8)
    case (.list(let x), .list(let y)):
        guard x.count == y.count else { return false }
        for (p, q) in zip(x, y) where try !jinjaEqual(p, q, fuel: fuel) { return false }
        return true
    case (.dict(let x), .dict(let y)):
        guard x.count == y.count else { return false }
        for pair in x {
            guard let other = b.member(pair.key) else { return false }
            try fuel.spend(y.count * JinjaFuel.perValue)
            if try !jinjaEqual(pair.value, other, fuel: fuel) { return false }
        }
        return true
    case (.namespace(let x), .namespace(let y)): return x === y
    default: return false
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
