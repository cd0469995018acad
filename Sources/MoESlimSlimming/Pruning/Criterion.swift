import MoESlimSupport
extension ExpertSelection {
    /// A `--criterion` choice: rank each layer's experts by a statistic of the counts file (ExpertStatistic),
    /// optionally divided expert by expert by another (a mean per routed token), by a seeded random score (the
    /// baseline), or by the expert weights alone (AIMER), keeping the highest or the lowest. The counts choices
    /// are the ones the statistics declare (`ExpertStatistic.criteria`), so help text, completion and parsing
    /// follow the statistics without a list of their own.
    public struct Criterion: RawRepresentable, CaseIterable, Hashable, Sendable, CustomStringConvertible {
        public enum Direction: Sendable { case keepHighest, keepLowest }

        /// Where the scores come from.
        public enum Source: Hashable, Sendable {
            /// A statistic of the counts file, divided expert by expert by another when given (0 where it is 0).
            case counts(ExpertStatistic, normalisedBy: ExpertStatistic?)
            /// SplitMix64 of the seed, the layer and the expert (RandomScores): the baseline every table needs.
            case random
            /// AIMER's score from the expert weights, no calibration (AimerScores).
            case weights
        }

        public let name: String
        public let source: Source
        public let direction: Direction
        public let summary: String

        public init(name: String, source: Source, direction: Direction = .keepHighest, summary: String) {
            self.name = name
            self.source = source
            self.direction = direction
            self.summary = summary
        }

        public init(name: String, statistic: ExpertStatistic, normalisedBy: ExpertStatistic? = nil,
                    direction: Direction = .keepHighest, summary: String) {
            self.init(name: name, source: .counts(statistic, normalisedBy: normalisedBy), direction: direction, summary: summary)
        }

        /// Ranking by the statistic itself, named after its key with `-` for `_` (`soft_softmax` → `soft-softmax`).
        public init(_ statistic: ExpertStatistic) {
            self.init(name: statistic.key.replacingBytes("_", with: "-"), statistic: statistic, summary: statistic.summary)
        }

        public static let random = Criterion(name: "random", source: .random, summary: "seeded random scores (--seed), the baseline")
        /// AIMER (arXiv 2603.18492): mean |w| ÷ RMS(w) over the expert's gate, up and down weights; the authors'
        /// code prunes the highest scores, so the lowest are kept.
        public static let aimer = Criterion(
            name: "aimer", source: .weights, direction: .keepLowest,
            summary: "AIMER: from the weights alone, lowest mean |w| / RMS(w) kept; needs no --counts")

        public static var allCases: [Criterion] { ExpertStatistic.allCases.flatMap(\.criteria) + [random, aimer] }

        /// Names that old command lines used: `saliency` ranked by the saliency sum before `reap` (the mean)
        /// existed, and still does. Not listed in help or completion.
        static let aliases: [(name: String, meaning: String)] = [("saliency", "saliency-sum")]

        public init?(rawValue: String) {
            let name = Self.aliases.first { $0.name.sameBytes(as: rawValue) }?.meaning ?? rawValue
            guard let found = Self.allCases.first(where: { $0.name.sameBytes(as: name) }) else { return nil }
            self = found
        }

        public var rawValue: String { name }
        public var description: String { name }

        /// Whether the scores come from a counts file.
        public var needsCounts: Bool {
            if case .counts = source { return true }
            return false
        }

        /// Every choice with what it ranks by, for help text.
        public static var explained: String { allCases.map { "\($0.name) (\($0.summary))" }.joined(separator: ", ") }

        /// Each expert's score in this layer of the counts; higher is kept. A statistic the file does not have (an
        /// older calibrate's) is refused, naming it.
        func scores(_ layer: ExpertCounts.Layer, path: String) throws(MoESlimError) -> [Double] {
            guard case .counts(let statistic, let normalisedBy) = source else {
                preconditionFailure("\(name) does not rank by counts")
            }
            for needed in [statistic] + (normalisedBy.map { [$0] } ?? []) where layer.sums[needed].isEmpty {
                throw MoESlimError(.invalidCounts, "the counts have no \(needed.key) (written by an older calibrate); re-run calibrate to rank by \(name)", path: path)
            }
            var values = layer.sums[statistic]
            if let normalisedBy {
                values = zip(values, layer.sums[normalisedBy]).map { $1 > 0 ? $0 / $1 : 0 }
            }
            return oriented(values)
        }

        /// Scores with the direction applied, so that higher is always kept.
        func oriented(_ values: [Double]) -> [Double] {
            switch direction {
            case .keepHighest: values
            case .keepLowest: values.map { -$0 }
            }
        }
    }
}
