import Foundation
import MoESlimSupport
import MoESlimFamilies

/// Router statistics per MoE layer and expert, as calibrate writes them (formats/counts.md). Every field is a
/// sum over tokens, so the counts of disjoint shards of the data add up to the counts of the whole.
public struct ExpertCounts: Sendable, Equatable {
    public static let formatName = "moe-slim.counts"
    public static let currentVersion = 1

    public struct Layer: Sendable, Equatable {
        public var layer: Int
        /// Tokens routed through this layer.
        public var tokens: Int
        /// Each statistic's sums over the layer's tokens (ExpertStatistic), as the file shows them.
        public internal(set) var sums: PerStatistic<Double>
        /// The fixed-point statistics in exact integer units, which add up exactly in any order: merged shard
        /// counts then equal one run's counts bit for bit. Their Doubles in `sums` are derived from these.
        public var exact: ExactSums?

        public init(layer: Int, experts: Int) {
            self.layer = layer
            tokens = 0
            sums = PerStatistic { Array(repeating: 0, count: $0.width(experts: experts)) }
            exact = nil
        }

        /// The layer's expert count, which every per-expert list has.
        public var experts: Int { sums[.hard].count }

        /// Named views for readers that want one statistic; a new statistic needs none.
        public var hard: [Double] {
            get { sums[.hard] }
            set { sums[.hard] = newValue }
        }
        public var soft: [Double] {
            get { sums[.soft] }
            set { sums[.soft] = newValue }
        }
        public var softSoftmax: [Double] {
            get { sums[.softSoftmax] }
            set { sums[.softSoftmax] = newValue }
        }
        public var saliency: [Double] {
            get { sums[.saliency] }
            set { sums[.saliency] = newValue }
        }
        /// Sum over tokens of the router distribution's entropy (nats); mean = entropySum / tokens.
        public var entropySum: Double {
            get { sums[.entropy][0] }
            set { sums[.entropy][0] = newValue }
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
    /// The same statistics per `--group-by` value, by the value's bytes.
    public var groups: [ByteName: [Layer]]?
    /// How the counts were made (data files, reader options); `counts merge` compares the ones that change
    /// what is counted (CountsSettings).
    public var settings: [ByteName: String]

    public init(model: ModelDescription, settings: [ByteName: String] = [:]) {
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

    /// Reads and checks every rule of formats/counts.md that the file alone can show (CountsRules).
    public static func load(_ path: String) throws(MoESlimError) -> ExpertCounts {
        let json: JSONValue
        do {
            json = try JSONParser.parse(try InputFile.read(path, as: .counts))
        } catch let error as MoESlimError {
            throw error
        } catch {
            throw MoESlimError(.invalidCounts, "not a counts file: \(error)", path: path)
        }
        let counts = try ExpertCounts(json: json, path: path)
        try CountsRules.check(counts, path: path)
        return counts
    }

    /// A counts file to use on this model: every rule of `load`, the model's fingerprint, and hard counts that
    /// are the model's top-k per token.
    public static func load(_ path: String, for model: ModelDescription) throws(MoESlimError) -> ExpertCounts {
        let counts = try load(path)
        try counts.check(against: model, path: path)
        try CountsRules.checkTopK(counts, model: model, path: path)
        return counts
    }

    /// Refuses counts made on a model of another shape (expert counts, layers, widths).
    public func check(against model: ModelDescription, path: String) throws(MoESlimError) {
        guard fingerprint.sameBytes(as: model.fingerprint) else {
            throw MoESlimError(.invalidCounts, "counts were made on another model (fingerprint \(fingerprint), this model is \(model.fingerprint))", path: path)
        }
    }

    /// One line of JSON, keys sorted by bytes.
    public func encoded() -> String { json.serialized(indent: nil, sortKeys: true) }
}

extension ModelDescription {
    /// A readable shape string: family, layers, hidden size, vocabulary and each MoE layer's expert count.
    public var fingerprint: String {
        let experts = moeLayers.map { "\($0.layer):\($0.numExperts)" }.joined(separator: ",")
        return "\(modelType)/L\(numLayers)/H\(hiddenSize)/V\(vocabSize)/E[\(experts)]"
    }
}
