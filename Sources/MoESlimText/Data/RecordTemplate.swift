import MoESlimSupport

/// A `--template` such as "[INST] {question} [/INST]", split once into literal bytes and field names.
struct RecordTemplate: Sendable {
    enum Part: Sendable {
        case literal([UInt8])
        case field(String)
    }

    let parts: [Part]

    init(_ text: String) throws(MoESlimError) {
        var parts: [Part] = []
        var literal: [UInt8] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if (b == 0x7B || b == 0x7D) && i + 1 < bytes.count && bytes[i + 1] == b {
                literal.append(b)
                i += 2
            } else if b == 0x7B {
                guard let close = bytes[(i + 1)...].firstIndex(of: 0x7D), close > i + 1 else {
                    throw MoESlimError(.invalidArgument, "--template: '{' without a field name and '}'")
                }
                if !literal.isEmpty { parts.append(.literal(literal)) }
                literal = []
                parts.append(.field(String(decoding: bytes[(i + 1)..<close], as: UTF8.self)))
                i = close + 1
            } else if b == 0x7D {
                throw MoESlimError(.invalidArgument, "--template: unmatched '}' (write '}}' for a literal brace)")
            } else {
                literal.append(b)
                i += 1
            }
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.parts = parts
    }

    var fields: [String] {
        parts.compactMap { if case .field(let name) = $0 { return name } else { return nil } }
    }

    /// `value(name)` returns the field's text, or nil when the record lacks it.
    func render(_ value: (String) -> [UInt8]?) -> Result<[UInt8], RecordFailure> {
        var out: [UInt8] = []
        for part in parts {
            switch part {
            case .literal(let bytes): out.append(contentsOf: bytes)
            case .field(let name):
                guard let bytes = value(name) else { return .failure(RecordFailure("no string field '\(name)'")) }
                out.append(contentsOf: bytes)
            }
        }
        return .success(out)
    }
}

/// Why one input line could not become a record; the reader adds the file and line number.
struct RecordFailure: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
