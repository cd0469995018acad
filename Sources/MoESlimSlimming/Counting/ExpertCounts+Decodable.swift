/// Decodable for JSON written by other tools in the counts layer layout (the engine goldens that
/// fixtures/gen_engine.py writes from transformers); the counts file itself is read by ExpertCounts+JSON. The keys
/// come from ExpertStatistic, like everywhere else.
struct StatisticCodingKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ key: String) { stringValue = key }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension ExpertCounts.Layer: Decodable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: StatisticCodingKey.self)
        layer = try c.decode(Int.self, forKey: StatisticCodingKey("layer"))
        tokens = try c.decode(Int.self, forKey: StatisticCodingKey("tokens"))
        sums = try PerStatistic { statistic in
            let key = StatisticCodingKey(statistic.key)
            guard statistic.requiredInFile || c.contains(key) else { return [] }
            switch statistic.scope {
            case .expert: return try c.decode([Double].self, forKey: key)
            case .layer: return [try c.decode(Double.self, forKey: key)]
            case .expertVector: return try c.decode([[Double]].self, forKey: key).flatMap { $0 }
            }
        }
        exact = try c.decodeIfPresent(ExactSums.self, forKey: StatisticCodingKey("exact"))
    }
}

extension ExactSums: Decodable {
    /// Decimal strings, as the counts file has them.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: StatisticCodingKey.self)
        func integer(_ text: String, _ key: StatisticCodingKey, signed: Bool = false) throws -> Int128 {
            guard let value = Self.decimal(text, signed: signed) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "'\(text)' is not \(signed ? "an" : "a non-negative") integer")
            }
            return value
        }
        units = try PerStatistic { statistic in
            let key = StatisticCodingKey(statistic.exactKey)
            guard statistic.representation == .fixedPoint, statistic.requiredInFile || c.contains(key) else { return [] }
            switch statistic.scope {
            case .expert: return try c.decode([String].self, forKey: key).map { try integer($0, key) }
            case .expertVector: return try c.decode([[String]].self, forKey: key).flatMap { $0 }.map { try integer($0, key, signed: statistic.signed) }
            case .layer: return [try integer(try c.decode(String.self, forKey: key), key)]
            }
        }
    }
}
