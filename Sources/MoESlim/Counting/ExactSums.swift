/// Sums of non-negative reals kept as integers in units of 2⁻⁶⁴. Integer addition is associative, so counts
/// of disjoint data shards merge to exactly the counts of one run, which floating-point sums cannot promise.
/// 2⁻⁶⁴ is far below Float32 resolution of router probabilities, and Int128 leaves room for 10¹⁸ tokens.
public struct ExactSums: Codable, Sendable, Equatable {
    public var soft: [Int128]
    public var softSoftmax: [Int128]
    public var saliency: [Int128]
    public var entropy: Int128

    static let scale = 18_446_744_073_709_551_616.0

    public init(experts: Int) {
        soft = Array(repeating: 0, count: experts)
        softSoftmax = soft
        saliency = soft
        entropy = 0
    }

    /// Sums that so far exist only as Doubles (a new layer, or a file written without exact sums).
    init(approximating layer: ExpertCounts.Layer) {
        soft = layer.soft.map(Self.units)
        softSoftmax = layer.softSoftmax.map(Self.units)
        saliency = layer.saliency.map(Self.units)
        entropy = Self.units(layer.entropySum)
    }

    /// Non-finite terms (a model with NaN weights) count as zero; `verify --scan` is the tool that finds them.
    @inline(__always) static func units(_ value: Double) -> Int128 {
        value.isFinite && value > 0 ? Int128((value * scale).rounded()) : 0
    }

    static func value(_ units: Int128) -> Double { Double(units) / scale }

    /// Whether every sum of the two stays within Int128: a counts file is read as any non-negative integers,
    /// so two near the top would trap when added.
    func canAbsorb(_ other: ExactSums) -> Bool {
        func fits(_ a: Int128, _ b: Int128) -> Bool { !a.addingReportingOverflow(b).overflow }
        return fits(entropy, other.entropy) && soft.indices.allSatisfy {
            fits(soft[$0], other.soft[$0]) && fits(softSoftmax[$0], other.softSoftmax[$0]) && fits(saliency[$0], other.saliency[$0])
        }
    }

    mutating func absorb(_ other: ExactSums) {
        for j in soft.indices {
            soft[j] += other.soft[j]
            softSoftmax[j] += other.softSoftmax[j]
            saliency[j] += other.saliency[j]
        }
        entropy += other.entropy
    }

    /// Stored as decimal strings: JSON numbers lose integers beyond 2⁵³ in most readers.
    enum CodingKeys: String, CodingKey {
        case soft, saliency, entropy
        case softSoftmax = "soft_softmax"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func integers(_ key: CodingKeys) throws -> [Int128] {
            try c.decode([String].self, forKey: key).map { text in
                guard let v = Int128(text), v >= 0 else {
                    throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "'\(text)' is not a non-negative integer")
                }
                return v
            }
        }
        soft = try integers(.soft)
        softSoftmax = try integers(.softSoftmax)
        saliency = try integers(.saliency)
        guard let e = Int128(try c.decode(String.self, forKey: .entropy)), e >= 0 else {
            throw DecodingError.dataCorruptedError(forKey: .entropy, in: c, debugDescription: "not a non-negative integer")
        }
        entropy = e
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(soft.map(String.init), forKey: .soft)
        try c.encode(softSoftmax.map(String.init), forKey: .softSoftmax)
        try c.encode(saliency.map(String.init), forKey: .saliency)
        try c.encode(String(entropy), forKey: .entropy)
    }
}

extension ExpertCounts.Layer {
    /// Re-derives the readable Double sums from the exact ones.
    mutating func refreshFromExact() {
        guard let exact else { return }
        for j in hard.indices {
            soft[j] = ExactSums.value(exact.soft[j])
            softSoftmax[j] = ExactSums.value(exact.softSoftmax[j])
            saliency[j] = ExactSums.value(exact.saliency[j])
        }
        entropySum = ExactSums.value(exact.entropy)
    }
}
