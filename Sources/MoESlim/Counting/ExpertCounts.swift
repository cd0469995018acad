import Foundation

/// Router statistics per MoE layer and expert, as calibrate writes them (formats/counts.md). Every field is a
/// sum over tokens, so the counts of disjoint shards of the data add up to the counts of the whole.
public struct ExpertCounts: Codable, Sendable, Equatable {
    public static let formatName = "moe-slim.counts"
    public static let currentVersion = 1

    public struct Layer: Codable, Sendable, Equatable {
        public var layer: Int
        /// Tokens routed through this layer.
        public var tokens: Int
        /// Tokens whose selected top-k includes the expert.
        public var hard: [Double]
        /// Sum of the router's own per-expert probability (softmax or sigmoid scores).
        public var soft: [Double]
        /// Sum of softmax of the raw router logits, the paper's literal soft count, for every family.
        public var softSoftmax: [Double]
        /// Sum over routed tokens of gate weight × L2 norm of the expert's output (REAP).
        public var saliency: [Double]
        /// Sum over tokens of the router distribution's entropy (nats); mean = entropySum / tokens.
        public var entropySum: Double
        /// The same sums in fixed point, which add up exactly in any order: merged shard counts then equal
        /// one run's counts bit for bit. The Double fields above are derived from these.
        public var exact: ExactSums?

        enum CodingKeys: String, CodingKey {
            case layer, tokens, hard, soft, saliency, exact
            case softSoftmax = "soft_softmax"
            case entropySum = "entropy_sum"
        }

        public init(layer: Int, experts: Int) {
            self.layer = layer
            tokens = 0
            hard = Array(repeating: 0, count: experts)
            soft = hard
            softSoftmax = hard
            saliency = hard
            entropySum = 0
            exact = nil
        }
    }

    public var format: String
    public var version: Int
    public var modelType: String
    /// The model's shape (formats/counts.md), so counts from another model are refused.
    public var fingerprint: String
    public var tokens: Int
    public var sequences: Int
    public var layers: [Layer]
    /// The same statistics per `--group-by` value.
    public var groups: [String: [Layer]]?
    /// How the counts were made (data files, reader options), for people; not compared on merge.
    public var settings: [String: String]

    enum CodingKeys: String, CodingKey {
        case format, version, fingerprint, tokens, sequences, layers, groups, settings
        case modelType = "model_type"
    }

    public init(model: ModelDescription, settings: [String: String] = [:]) {
        format = Self.formatName
        version = Self.currentVersion
        modelType = model.modelType
        fingerprint = model.fingerprint
        tokens = 0
        sequences = 0
        layers = model.moeLayers.map { Layer(layer: $0.layer, experts: $0.numExperts) }
        groups = nil
        self.settings = settings
    }

    public func layer(_ index: Int) -> Layer? { layers.first { $0.layer == index } }

    public static func load(_ path: String) throws(MoESlimError) -> ExpertCounts {
        let bytes = try InputFile.read(path, as: .counts)
        let counts: ExpertCounts
        do {
            counts = try JSONDecoder().decode(ExpertCounts.self, from: Data(bytes))
        } catch {
            throw MoESlimError(.invalidCounts, "not a counts file: \(ConfigDecoding.explain(error))", path: path)
        }
        guard counts.format == formatName, counts.version == currentVersion else {
            throw MoESlimError(.invalidCounts, "format '\(counts.format)' version \(counts.version) is not \(formatName) version \(currentVersion)", path: path)
        }
        guard Set(counts.layers.map(\.layer)).count == counts.layers.count else {
            throw MoESlimError(.invalidCounts, "a layer appears more than once", path: path)
        }
        for l in counts.layers {
            let n = l.hard.count
            guard l.soft.count == n, l.softSoftmax.count == n, l.saliency.count == n,
                  (l.hard + l.soft + l.softSoftmax + l.saliency).allSatisfy({ $0.isFinite && $0 >= 0 }),
                  l.exact.map({ $0.soft.count == n && $0.softSoftmax.count == n && $0.saliency.count == n }) ?? true
            else {
                throw MoESlimError(.invalidCounts, "layer \(l.layer) has lists of different lengths or negative / non-finite values", path: path)
            }
        }
        return counts
    }

    /// Refuses counts made on a model of another shape (expert counts, layers, widths).
    public func check(against model: ModelDescription, path: String) throws(MoESlimError) {
        guard fingerprint == model.fingerprint else {
            throw MoESlimError(.invalidCounts, "counts were made on another model (fingerprint \(fingerprint), this model is \(model.fingerprint))", path: path)
        }
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }
}

extension ModelDescription {
    /// A readable shape string: family, layers, hidden size, vocabulary and each MoE layer's expert count.
    public var fingerprint: String {
        let experts = moeLayers.map { "\($0.layer):\($0.numExperts)" }.joined(separator: ",")
        return "\(modelType)/L\(numLayers)/H\(hiddenSize)/V\(vocabSize)/E[\(experts)]"
    }
}
