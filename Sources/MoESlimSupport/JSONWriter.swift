extension JSONValue {
    /// Pretty output in the style of Python's `json.dump(indent=2)`, which is how config.json files are written,
    /// so a rewritten config differs from its input only where we changed it.
    public func serialized(indent: Int? = 2, sortKeys: Bool = false) -> String {
        var out = ""
        write(into: &out, level: 0, indent: indent, sortKeys: sortKeys)
        return out
    }

    private func write(into out: inout String, level: Int, indent: Int?, sortKeys: Bool) {
        let newline = indent == nil ? "" : "\n"
        func pad(_ l: Int) -> String { indent.map { String(repeating: " ", count: $0 * l) } ?? "" }
        let separator = indent == nil ? "," : ","
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): out += JSONValue.quote(s)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            out += "[" + newline
            for (i, item) in items.enumerated() {
                out += pad(level + 1)
                item.write(into: &out, level: level + 1, indent: indent, sortKeys: sortKeys)
                out += (i + 1 < items.count ? separator : "") + newline
            }
            out += pad(level) + "]"
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            let ordered = sortKeys ? members.sorted { $0.key.utf8Precedes($1.key) } : members
            out += "{" + newline
            for (i, member) in ordered.enumerated() {
                out += pad(level + 1) + JSONValue.quote(member.key) + (indent == nil ? ":" : ": ")
                member.value.write(into: &out, level: level + 1, indent: indent, sortKeys: sortKeys)
                out += (i + 1 < ordered.count ? separator : "") + newline
            }
            out += pad(level) + "}"
        }
    }

    public static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20:
                let hex = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
