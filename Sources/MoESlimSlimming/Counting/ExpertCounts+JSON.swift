import MoESlimSupport
import MoESlimEngine

/// The counts file as JSON, read with the strict parser and written with JSONWriter rather than through
/// Codable: Foundation's JSON coders keep object keys in String-keyed dictionaries, where two group names that
/// differ in bytes but are canonically equivalent would become one group. Every error names the key.
extension ExpertCounts {
    init(json: JSONValue, path: String) throws(MoESlimError) {
        let reader = CountsJSON(path: path)
        let top = try reader.object(json, at: "the file")
        format = try reader.string(top, "format", at: "")
        version = try reader.integer(top, "version", at: "")
        guard format.sameBytes(as: Self.formatName), version == Self.currentVersion else {
            throw reader.fail("format '\(format)' version \(version) is not \(Self.formatName) version \(Self.currentVersion)")
        }
        modelType = try reader.string(top, "model_type", at: "")
        fingerprint = try reader.string(top, "fingerprint", at: "")
        tokens = try reader.count(top, "tokens", at: "")
        sequences = try reader.count(top, "sequences", at: "")
        layers = try reader.list(top, "layers", at: "").enumerated().map { (i, item) throws(MoESlimError) in
            try Layer(json: item, at: "layers[\(i)]", reader: reader)
        }
        if let groupsJSON = json["groups"] {
            var byName: [ByteName: [Layer]] = [:]
            for (name, value) in try reader.object(groupsJSON, at: "groups") {
                guard let items = value.arrayValue else { throw reader.fail("groups['\(name)'] is not a list") }
                byName[ByteName(name)] = try items.enumerated().map { (i, item) throws(MoESlimError) in
                    try Layer(json: item, at: "groups['\(name)'][\(i)]", reader: reader)
                }
            }
            groups = byName
        } else {
            groups = nil
        }
        var settings: [ByteName: String] = [:]
        for (key, value) in try reader.object(json["settings"] ?? .object([]), at: "settings") {
            guard let text = value.stringValue else { throw reader.fail("settings['\(key)'] is not a string") }
            settings[ByteName(key)] = text
        }
        self.settings = settings
    }

    /// Keys sorted by bytes, as before; numbers that are whole print without a fraction.
    var json: JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("format", .string(format)), ("version", .int(version)), ("model_type", .string(modelType)),
            ("fingerprint", .string(fingerprint)), ("tokens", .int(tokens)), ("sequences", .int(sequences)),
            ("layers", .array(layers.map(\.json))),
            ("settings", .object(settings.map { ($0.key.string, .string($0.value)) })),
        ]
        if let groups { members.append(("groups", .object(groups.map { ($0.key.string, .array($0.value.map(\.json))) }))) }
        return .object(members)
    }
}

extension ExpertCounts.Layer {
    init(json: JSONValue, at where: String, reader: CountsJSON) throws(MoESlimError) {
        let fields = try reader.object(json, at: `where`)
        let at = `where` + "."
        layer = try reader.count(fields, "layer", at: at)
        tokens = try reader.count(fields, "tokens", at: at)
        sums = try PerStatistic { (statistic) throws(MoESlimError) in
            guard statistic.requiredInFile || fields.contains(where: { $0.key.sameBytes(as: statistic.key) }) else { return [] }
            switch statistic.scope {
            case .expert: return try reader.numbers(fields, statistic.key, signed: statistic.signed, at: at)
            case .layer: return [try reader.number(fields, statistic.key, at: at)]
            case .expertVector: return try reader.vectors(fields, statistic.key, at: at) { (item, place) throws(MoESlimError) in
                try reader.checked(item, signed: statistic.signed, at: place)
            }
            }
        }
        exact = try fields.first { $0.key.sameBytes(as: "exact") }.map { (_, value) throws(MoESlimError) in
            try ExactSums(json: value, at: at + "exact", reader: reader)
        }
    }

    var json: JSONValue {
        var members: [(key: String, value: JSONValue)] = [("layer", .int(layer)), ("tokens", .int(tokens))]
        for statistic in ExpertStatistic.allCases where !sums[statistic].isEmpty {
            members.append((statistic.key, statistic.shaped(sums[statistic].map(CountsJSON.number))))
        }
        if let exact { members.append(("exact", exact.json)) }
        return .object(members)
    }
}

extension ExactSums {
    init(json: JSONValue, at where: String, reader: CountsJSON) throws(MoESlimError) {
        let fields = try reader.object(json, at: `where`)
        let at = `where` + "."
        units = try PerStatistic { (statistic) throws(MoESlimError) in
            guard statistic.representation == .fixedPoint,
                  statistic.requiredInFile || fields.contains(where: { $0.key.sameBytes(as: statistic.exactKey) }) else { return [] }
            switch statistic.scope {
            case .expert: return try reader.units(fields, statistic.exactKey, signed: statistic.signed, at: at)
            case .expertVector: return try reader.vectors(fields, statistic.exactKey, at: at) { (item, place) throws(MoESlimError) in
                try reader.units(item, signed: statistic.signed, at: place)
            }
            case .layer:
                guard let text = fields.first(where: { $0.key.sameBytes(as: statistic.exactKey) })?.value.stringValue,
                      let units = Self.decimal(text) else {
                    throw reader.fail("\(at)\(statistic.exactKey) is not a non-negative integer in a string")
                }
                return [units]
            }
        }
    }

    /// Stored as decimal strings: JSON numbers lose integers beyond 2⁵³ in most readers.
    var json: JSONValue {
        .object(Self.statistics.filter { !units[$0].isEmpty }.map { statistic in
            (statistic.exactKey, statistic.shaped(units[statistic].map { JSONValue.string(String($0)) }))
        })
    }

    /// Digits only, after one minus sign when `signed`: `Int128(_:)` would also take a plus sign.
    static func decimal(_ text: String, signed: Bool = false) -> Int128? {
        let digits = signed && text.utf8.first == 0x2D ? text.utf8.dropFirst() : text.utf8[...]
        guard !digits.isEmpty, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int128(text)
    }
}

/// Reads the fields of a counts file, each error naming the file and the key's path in it.
struct CountsJSON {
    let path: String

    func fail(_ message: String) -> MoESlimError { MoESlimError(.invalidCounts, message, path: path) }

    func object(_ value: JSONValue, at where: String) throws(MoESlimError) -> [(key: String, value: JSONValue)] {
        guard let members = value.objectMembers else { throw fail("\(`where`) is not a JSON object") }
        return members
    }

    private func field(_ members: [(key: String, value: JSONValue)], _ key: String, at: String) throws(MoESlimError) -> JSONValue {
        guard let value = members.first(where: { $0.key.sameBytes(as: key) })?.value else { throw fail("\(at)\(key) is missing") }
        return value
    }

    func string(_ members: [(key: String, value: JSONValue)], _ key: String, at: String) throws(MoESlimError) -> String {
        guard let text = try field(members, key, at: at).stringValue else { throw fail("\(at)\(key) is not a string") }
        return text
    }

    func integer(_ members: [(key: String, value: JSONValue)], _ key: String, at: String) throws(MoESlimError) -> Int {
        let value = try field(members, key, at: at)
        guard let n = value.intValue else { throw fail("\(at)\(key) is \(value.serialized(indent: nil)), not an integer") }
        return n
    }

    /// A count of tokens, sequences or a layer index: a whole number, not negative.
    func count(_ members: [(key: String, value: JSONValue)], _ key: String, at: String) throws(MoESlimError) -> Int {
        let n = try integer(members, key, at: at)
        guard n >= 0 else { throw fail("\(at)\(key) is \(n), negative") }
        return n
    }

    func list(_ members: [(key: String, value: JSONValue)], _ key: String, at: String) throws(MoESlimError) -> [JSONValue] {
        guard let items = try field(members, key, at: at).arrayValue else { throw fail("\(at)\(key) is not a list") }
        return items
    }

    /// A sum over tokens: finite and not negative (a literal such as 1e999 reads as infinity).
    func number(_ members: [(key: String, value: JSONValue)], _ key: String, at: String) throws(MoESlimError) -> Double {
        try checked(field(members, key, at: at), at: "\(at)\(key)")
    }

    func numbers(_ members: [(key: String, value: JSONValue)], _ key: String, signed: Bool = false, at: String) throws(MoESlimError) -> [Double] {
        try list(members, key, at: at).enumerated().map { (i, item) throws(MoESlimError) in try checked(item, signed: signed, at: "\(at)\(key)[\(i)]") }
    }

    /// A sum, or with `signed` a sum of terms that may be negative: finite and, in magnitude, below 2⁶².
    func checked(_ value: JSONValue, signed: Bool = false, at where: String) throws(MoESlimError) -> Double {
        guard let d = value.doubleValue else { throw fail("\(`where`) is not a number") }
        guard d.isFinite else { throw fail("\(`where`) is \(value.serialized(indent: nil)), not finite") }
        guard signed || d >= 0 else { throw fail("\(`where`) is \(value.serialized(indent: nil)), negative") }
        guard abs(d) < ExactSums.largestSum else {
            throw fail("\(`where`) is \(value.serialized(indent: nil)), beyond the 2^62 that exact sums can hold")
        }
        return d
    }

    func units(_ members: [(key: String, value: JSONValue)], _ key: String, signed: Bool = false, at: String) throws(MoESlimError) -> [Int128] {
        try list(members, key, at: at).enumerated().map { (i, item) throws(MoESlimError) in
            try units(item, signed: signed, at: "\(at)\(key)[\(i)]")
        }
    }

    func units(_ item: JSONValue, signed: Bool, at where: String) throws(MoESlimError) -> Int128 {
        guard let text = item.stringValue, let units = ExactSums.decimal(text, signed: signed) else {
            throw fail("\(`where`) is not \(signed ? "an" : "a non-negative") integer in a string")
        }
        return units
    }

    /// A list with one list of OutputSketch.width entries per expert, read by `entry` and laid end to end.
    func vectors<Value>(
        _ members: [(key: String, value: JSONValue)], _ key: String, at: String,
        entry: (JSONValue, String) throws(MoESlimError) -> Value
    ) throws(MoESlimError) -> [Value] {
        var values: [Value] = []
        for (e, item) in try list(members, key, at: at).enumerated() {
            guard let vector = item.arrayValue, vector.count == OutputSketch.width else {
                throw fail("\(at)\(key)[\(e)] is not a list of \(OutputSketch.width) numbers")
            }
            for (j, value) in vector.enumerated() { values.append(try entry(value, "\(at)\(key)[\(e)][\(j)]")) }
        }
        return values
    }

    /// Whole numbers without a fraction, so hard counts and token counts read back as they were.
    static func number(_ value: Double) -> JSONValue {
        if value == value.rounded(), abs(value) < 9_007_199_254_740_992 { return .number(String(Int64(value))) }
        return .number("\(value)")
    }
}
