/// The filters, tests, operators, methods and global functions chat templates call, each as Python and
/// Jinja define it; a name not listed here is refused by name.
enum JinjaBuiltins {
    static let dictMethods: Set<String> = ["items", "keys", "values", "get"]
    static let stringMethods: Set<String> = [
        "startswith", "endswith", "split", "strip", "lstrip", "rstrip", "upper", "lower", "replace", "title",
        "capitalize",
    ]

    /// Python's `str()` of a value as `{{ }}` prints it.
    static func string(_ value: JinjaValue) throws(ChatTemplateFailure) -> String {
        switch value {
        case .undefined: ""
        case .none: "None"
        case .bool(let b): b ? "True" : "False"
        case .int(let i): String(i)
        case .string(let s): s
        default: throw ChatTemplateFailure("printing a \(value.typeName) is not implemented")
        }
    }

    static func binary(_ op: String, _ a: JinjaValue, _ b: JinjaValue, fuel: JinjaFuel) throws(ChatTemplateFailure) -> JinjaValue {
        switch op {
        case "==": return .bool(try jinjaEqual(a, b, fuel: fuel))
        case "!=": return .bool(try !jinjaEqual(a, b, fuel: fuel))
        case "~":
            let (x, y) = (try string(a), try string(b))
            _ = try JinjaBounds.stringSum(x.utf8.count, y.utf8.count)
            return .string(x + y)
        case "in": return .bool(try contains(b, a, fuel: fuel))
        default: break
        }
        switch (op, a, b) {
        case ("+", .string(let x), .string(let y)):
            _ = try JinjaBounds.stringSum(x.utf8.count, y.utf8.count)
            return .string(x + y)
        case ("+", .list(let x), .list(let y)):
            try JinjaBounds.checkItems(x.count + y.count)
            return .list(x + y)
        case ("*", .string(let x), .int(let n)):
            guard n > 0 else { return .string("") }
            let (bytes, overflow) = x.utf8.count.multipliedReportingOverflow(by: n)
            guard !overflow else { throw ChatTemplateFailure("a string longer than \(JinjaBounds.stringBytes) bytes") }
            try JinjaBounds.checkString(bytes)
            return .string(String(repeating: x, count: n))
        case (_, .int(let x), .int(let y)):
            switch op {
            case "+", "-", "*":
                let (r, overflow) = op == "+" ? x.addingReportingOverflow(y)
                    : op == "-" ? x.subtractingReportingOverflow(y) : x.multipliedReportingOverflow(by: y)
                guard !overflow else { throw ChatTemplateFailure("integer overflow in '\(op)'") }
                return .int(r)
            case "//", "%":
                guard y != 0 else { throw ChatTemplateFailure("division by zero") }
                guard !(x == .min && y == -1) else { throw ChatTemplateFailure("integer overflow in '\(op)'") }
                let q = x / y - (x % y != 0 && (x < 0) != (y < 0) ? 1 : 0)
                return .int(op == "//" ? q : x - q * y)
            case "/":
                guard y != 0 else { throw ChatTemplateFailure("division by zero") }
                return .float(Double(x) / Double(y))
            case "<": return .bool(x < y)
            case ">": return .bool(x > y)
            case "<=": return .bool(x <= y)
            case ">=": return .bool(x >= y)
            default: break
            }
        case (_, .string(let x), .string(let y)):
            let (xs, ys) = (Array(x.unicodeScalars.map(\.value)), Array(y.unicodeScalars.map(\.value)))
            switch op {
            case "<": return .bool(xs.lexicographicallyPrecedes(ys))
            case ">": return .bool(ys.lexicographicallyPrecedes(xs))
            case "<=": return .bool(!ys.lexicographicallyPrecedes(xs))
            case ">=": return .bool(!xs.lexicographicallyPrecedes(ys))
            default: break
            }
        default: break
        }
        throw ChatTemplateFailure("'\(op)' between a \(a.typeName) and a \(b.typeName) is not implemented")
    }

    private static func contains(_ container: JinjaValue, _ element: JinjaValue, fuel: JinjaFuel) throws(ChatTemplateFailure) -> Bool {
        switch (container, element) {
        case (.string(let s), .string(let part)): return JinjaBounds.find(Array(s.utf8), Array(part.utf8), from: 0) != nil
        case (.list(let items), _):
            for item in items where try jinjaEqual(item, element, fuel: fuel) { return true }
            return false
        case (.dict, .string(let key)): return container.member(key) != nil
        default: throw ChatTemplateFailure("'in' on a \(container.typeName) is not implemented")
        }
    }

    static func test(_ name: String, _ v: JinjaValue, _ args: [JinjaValue], fuel: JinjaFuel) throws(ChatTemplateFailure) -> Bool {
        switch name {
        case "defined": if case .undefined = v { return false } else { return true }
        case "undefined": if case .undefined = v { return true } else { return false }
        case "none": if case .none = v { return true } else { return false }
        case "string": if case .string = v { return true } else { return false }
        case "mapping": if case .dict = v { return true } else { return false }
        case "boolean": if case .bool = v { return true } else { return false }
        case "true": if case .bool(true) = v { return true } else { return false }
        case "false": if case .bool(false) = v { return true } else { return false }
        case "integer": if case .int = v { return true } else { return false }
        case "float": if case .float = v { return true } else { return false }
        case "number":
            switch v { case .int, .float, .bool: return true; default: return false }
        case "iterable":
            switch v { case .list, .dict, .string, .undefined: return true; default: return false }
        case "sequence":
            switch v { case .list, .dict, .string: return true; default: return false }
        case "even", "odd":
            guard case .int(let i) = v else { throw ChatTemplateFailure("'\(name)' test of a \(v.typeName)") }
            return (i % 2 == 0) == (name == "even")
        case "eq", "equalto", "==", "sameas":
            guard args.count == 1 else { throw ChatTemplateFailure("the '\(name)' test takes one argument") }
            return try jinjaEqual(v, args[0], fuel: fuel)
        case "ne", "!=":
            guard args.count == 1 else { throw ChatTemplateFailure("the '\(name)' test takes one argument") }
            return try !jinjaEqual(v, args[0], fuel: fuel)
        default: throw ChatTemplateFailure("the '\(name)' test is not implemented")
        }
    }

    static func filter(
        _ name: String, _ v: JinjaValue, _ args: [JinjaValue], _ kw: [(String, JinjaValue)]
    ) throws(ChatTemplateFailure) -> JinjaValue {
        switch name {
        case "trim": return try method(v, "strip", args, [])
        case "length", "count":
            switch v {
            case .undefined: return .int(0)
            case .string(let s): return .int(s.unicodeScalars.count)
            case .list(let l): return .int(l.count)
            case .dict(let d): return .int(d.count)
            default: throw ChatTemplateFailure("length of a \(v.typeName)")
            }
        case "tojson":
            let indent = try keyword(kw, "indent", args.first).flatMap { v throws(ChatTemplateFailure) -> Int? in
                if case .int(let n) = v { return n }
                if case .none = v { return nil }
                throw ChatTemplateFailure("tojson indent must be an integer")
            }
            if let indent { guard (0...JinjaJSON.maxIndent).contains(indent) else { throw ChatTemplateFailure("tojson indent must be between 0 and \(JinjaJSON.maxIndent)") } }
            var out = ""
            try JinjaJSON.write(v, indent: indent, level: 0, into: &out)
            return .string(out)
        case "items":
            switch v {
            case .undefined: return .list([])
            case .dict(let pairs): return .list(pairs.map { .list([.string($0.key), $0.value]) })
            default: throw ChatTemplateFailure("items of a \(v.typeName)")
            }
        case "default", "d":
            let fallback = args.first ?? .string("")
            let boolean = (args.count > 1 ? args[1] : try keyword(kw, "boolean", nil))?.truthy ?? false
            if case .undefined = v { return fallback }
            return boolean && !v.truthy ? fallback : v
        case "first", "last":
            let items = try sequence(v)
            return (name == "first" ? items.first : items.last) ?? .undefined
        case "list": return .list(try sequence(v))
        case "reverse":
            if case .string(let s) = v { return .string(String(String.UnicodeScalarView(s.unicodeScalars.reversed()))) }
            return .list(try sequence(v).reversed())
        case "join":
            let separator = try args.first.map { v throws(ChatTemplateFailure) in try string(v) } ?? ""
            var parts: [String] = []
            var bytes = 0
            for item in try sequence(v) {
                let part = try string(item)
                bytes = try JinjaBounds.stringSum(bytes, part.utf8.count + (parts.isEmpty ? 0 : separator.utf8.count))
                parts.append(part)
            }
            return .string(parts.joined(separator: separator))
        case "string": return .string(try string(v))
        case "upper", "lower", "capitalize", "title": return try method(v, name, [], [])
        case "replace": return try method(v, "replace", args, [])
        default: throw ChatTemplateFailure("the '\(name)' filter is not implemented")
        }
    }

    private static func keyword(_ kw: [(String, JinjaValue)], _ name: String, _ positional: JinjaValue?) throws(ChatTemplateFailure) -> JinjaValue? {
        if let given = kw.first(where: { $0.0 == name }) { return given.1 }
        if let other = kw.first(where: { $0.0 != name }) {
            throw ChatTemplateFailure("keyword argument '\(other.0)' is not implemented")
        }
        return positional
    }

    private static func sequence(_ v: JinjaValue) throws(ChatTemplateFailure) -> [JinjaValue] {
        switch v {
        case .undefined: return []
        case .list(let l): return l
        case .dict(let d): return d.map { .string($0.key) }
        case .string(let s):
            try JinjaBounds.checkItems(s.unicodeScalars.count)
            return s.unicodeScalars.map { .string(String($0)) }
        default: throw ChatTemplateFailure("a \(v.typeName) is not a sequence")
        }
    }

    static func function(_ name: String, _ args: [JinjaValue], _ kw: [(String, JinjaValue)]) throws(ChatTemplateFailure) -> JinjaValue {
        switch name {
        case "raise_exception":
            throw ChatTemplateFailure("the template raised: \(try args.first.map { v throws(ChatTemplateFailure) in try string(v) } ?? "")")
        case "namespace":
            var attributes: [(key: String, value: JinjaValue)] = []
            if case .dict(let pairs)? = args.first { attributes = pairs }
            for (k, v) in kw { attributes.append((k, v)) }
            return .namespace(JinjaNamespace(attributes))
        case "dict":
            return .dict(kw.map { (key: $0.0, value: $0.1) })
        case "range":
            var bounds: [Int] = []
            for a in args {
                guard case .int(let i) = a else { throw ChatTemplateFailure("range takes integers") }
                bounds.append(i)
            }
            let (start, stop, step) = bounds.count == 1 ? (0, bounds[0], 1)
                : bounds.count == 2 ? (bounds[0], bounds[1], 1)
                : bounds.count == 3 ? (bounds[0], bounds[1], bounds[2]) : (0, 0, 0)
            guard step != 0, bounds.count >= 1 else { throw ChatTemplateFailure("range takes 1 to 3 integers, step not 0") }
            let values = Array(stride(from: start, to: stop, by: step).prefix(1_000_001))
            guard values.count <= 1_000_000 else { throw ChatTemplateFailure("range longer than 1000000") }
            return .list(values.map { .int($0) })
        default: throw ChatTemplateFailure("the function '\(name)' is not implemented")
        }
    }

    static func method(
        _ receiver: JinjaValue, _ name: String, _ args: [JinjaValue], _ kw: [(String, JinjaValue)]
    ) throws(ChatTemplateFailure) -> JinjaValue {
        guard kw.isEmpty else { throw ChatTemplateFailure("keyword arguments to '\(name)' are not implemented") }
        if case .dict(let pairs) = receiver {
            switch name {
            case "items": return .list(pairs.map { .list([.string($0.key), $0.value]) })
            case "keys": return .list(pairs.map { .string($0.key) })
            case "values": return .list(pairs.map(\.value))
            case "get":
                guard case .string(let key)? = args.first else { throw ChatTemplateFailure("get takes a string key") }
                return receiver.member(key) ?? (args.count > 1 ? args[1] : .none)
            default: break
            }
        }
        guard case .string(let s) = receiver else {
            throw ChatTemplateFailure("the method '\(name)' of a \(receiver.typeName) is not implemented")
        }
        func text(_ i: Int) throws(ChatTemplateFailure) -> String? {
            guard i < args.count else { return nil }
            switch args[i] {
            case .string(let t): return t
            case .none: return nil
            default: throw ChatTemplateFailure("'\(name)' takes a string argument")
            }
        }
        switch name {
        case "startswith", "endswith":
            var candidates: [String] = []
            if case .list(let items)? = args.first {
                for item in items { if case .string(let t) = item { candidates.append(t) } }
            } else if let t = try text(0) {
                candidates = [t]
            }
            let bytes = Array(s.utf8)
            return .bool(candidates.contains { c in
                let cb = Array(c.utf8)
                return name == "startswith" ? bytes.starts(with: cb) : bytes.reversed().starts(with: cb.reversed())
            })
        case "strip", "lstrip", "rstrip":
            let set = try text(0).map { Set($0.unicodeScalars.map(\.value)) }
            let strip: (Unicode.Scalar) -> Bool = { set?.contains($0.value) ?? isPythonSpace($0) }
            var scalars = Array(s.unicodeScalars)[...]
            if name != "rstrip" { scalars = scalars.drop(while: strip) }
            if name != "lstrip" { while let last = scalars.last, strip(last) { scalars.removeLast() } }
            return .string(String(String.UnicodeScalarView(scalars)))
        case "split":
            var limit = -1
            if args.count > 1 {
                guard case .int(let n) = args[1] else { throw ChatTemplateFailure("split's maxsplit must be an integer") }
                limit = n
            }
            guard let separator = try text(0) else {
                return .list(try pythonWhitespaceSplit(s, limit: limit).map { .string($0) })
            }
            guard !separator.utf8.isEmpty else { throw ChatTemplateFailure("empty separator") }
            let bytes = Array(s.utf8)
            let sep = Array(separator.utf8)
            var parts: [JinjaValue] = []
            var start = 0
            while limit != 0, let hit = JinjaBounds.find(bytes, sep, from: start) {
                try JinjaBounds.checkItems(parts.count + 1)
                parts.append(.string(String(decoding: bytes[start..<hit], as: UTF8.self)))
                start = hit + sep.count
                limit -= 1
            }
            parts.append(.string(String(decoding: bytes[start...], as: UTF8.self)))
            return .list(parts)
        case "replace":
            guard let old = try text(0), let new = try text(1) else { throw ChatTemplateFailure("replace takes two strings") }
            guard !old.utf8.isEmpty else { throw ChatTemplateFailure("replace of an empty string is not implemented") }
            let bytes = Array(s.utf8)
            let o = Array(old.utf8)
            var out: [UInt8] = []
            var start = 0
            while let hit = JinjaBounds.find(bytes, o, from: start) {
                out += bytes[start..<hit]
                try JinjaBounds.checkString(out.count + new.utf8.count)
                out += new.utf8
                start = hit + o.count
            }
            out += bytes[start...]
            return .string(String(decoding: out, as: UTF8.self))
        case "upper": return .string(s.uppercased())
        case "lower": return .string(s.lowercased())
        default: throw ChatTemplateFailure("the string method '\(name)' is not implemented")
        }
    }

    /// Python's str.isspace for the characters str.strip() and str.split() remove.
    static func isPythonSpace(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }

    private static func pythonWhitespaceSplit(_ s: String, limit: Int) throws(ChatTemplateFailure) -> [String] {
        var parts: [String] = []
        var scalars = Array(s.unicodeScalars)[...]
        var remaining = limit
        while true {
            scalars = scalars.drop(while: isPythonSpace)
            if scalars.isEmpty { break }
            if remaining == 0 {
                var rest = scalars
                while let last = rest.last, isPythonSpace(last) { rest.removeLast() }
                parts.append(String(String.UnicodeScalarView(rest)))
                break
            }
            let word = scalars.prefix(while: { !isPythonSpace($0) })
            try JinjaBounds.checkItems(parts.count + 1)
            parts.append(String(String.UnicodeScalarView(word)))
            scalars = scalars.dropFirst(word.count)
            remaining -= 1
        }
        return parts
    }
}

/// transformers' `tojson`: `json.dumps(x, ensure_ascii=False, indent=indent)`.
enum JinjaJSON {
    /// Python takes any indent; real templates use 2 or 4, and a huge one only multiplies the output.
    static let maxIndent = 1024

    /// Each value checks the text so far against the string bound, so a shared list printed many times over
    /// stops at the bound instead of filling memory.
    static func write(_ v: JinjaValue, indent: Int?, level: Int, into out: inout String) throws(ChatTemplateFailure) {
        try JinjaBounds.checkString(out.utf8.count)
        let (itemSeparator, newline) = indent == nil ? (", ", "") : (",", "\n")
        let pad = { (l: Int) in indent.map { String(repeating: " ", count: $0 * l) } ?? "" }
        switch v {
        case .none: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .string(let s): quote(s, into: &out)
        case .list(let items):
            if items.isEmpty { out += "[]"; return }
            out += "[" + newline
            for (i, item) in items.enumerated() {
                if i > 0 { out += itemSeparator + newline }
                out += pad(level + 1)
                try write(item, indent: indent, level: level + 1, into: &out)
            }
            out += newline + pad(level) + "]"
        case .dict(let pairs):
            if pairs.isEmpty { out += "{}"; return }
            out += "{" + newline
            for (i, pair) in pairs.enumerated() {
                if i > 0 { out += itemSeparator + newline }
                out += pad(level + 1)
                quote(pair.key, into: &out)
                out += ": "
                try write(pair.value, indent: indent, level: level + 1, into: &out)
            }
            out += newline + pad(level) + "}"
        default: throw ChatTemplateFailure("tojson of a \(v.typeName) is not implemented")
        }
    }

    private static func quote(_ s: String, into out: inout String) {
        out += "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if c.value < 0x20 {
                    let hex = String(c.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        out += "\""
    }
}
