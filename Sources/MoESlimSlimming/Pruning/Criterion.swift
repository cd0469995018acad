extension ExpertSelection {
    /// A `--criterion` choice: rank each layer's experts by a statistic of the counts file (ExpertStatistic),
    /// optionally divided expert by expert by another (a mean per routed token), keeping the highest or the
    /// lowest. The choices are the ones the statistics declare (`ExpertStatistic.criteria`), so help text,
    /// completion and parsing follow the statistics without a list of their own.
    public struct Criterion: RawRepresentable, CaseIterable, Hashable, Sendable, CustomStringConvertible {
        public enum Direction: Sendable { case keepHighest, keepLowest }

        public let name: String
        public let statistic: ExpertStatistic
        /// Divides the statistic expert by expert (0 where the divisor is 0), e.g. saliency by hard for a mean.
        public let normalisedBy: ExpertStatistic?
        public let direction: Direction
        public let summary: String

        public init(name: String, statistic: ExpertStatistic, normalisedBy: ExpertStatistic? = nil,
                    direction: Direction = .keepHighest, summary: String) {
            self.name = name
            self.statistic = statistic
            self.normalisedBy = normalisedBy
            self.direction = direction
            self.summary = summary
        }

        /// Ranking by the statistic itself, named after its key with `-` for `_` (`soft_softmax` → `soft-softmax`).
        public init(_ statistic: ExpertStatistic) {
            self.init(name: statistic.key.replacingBytes("_", with: "-"), statistic: statistic, summary: statistic.summary)
        }

        public static var allCases: [Criterion] { ExpertStatistic.allCases.flatMap(\.criteria) }

        public init?(rawValue: String) {
            guard let found = Self.allCases.first(where: { $0.name.sameBytes(as: rawValue) }) else { return nil }
            self = found
        }

        public var rawValue: String { name }
        public var description: String { name }

        /// Every choice with what it ranks by, for help text.
        public static var explained: String { allCases.map { "\($0.name) (\($0.summary))" }.joined(separator: ", ") }

        /// Each expert's score in this layer; higher is kept.
        func scores(_ layer: ExpertCounts.Layer) -> [Double] {
            var values = layer.sums[statistic]
            if let normalisedBy {
                values = zip(values, layer.sums[normalisedBy]).map { $1 > 0 ? $0 / $1 : 0 }
            }
            switch direction {
            case .keepHighest: return values
            case .keepLowest: return values.map { -$0 }
            }
        }
    }
}
