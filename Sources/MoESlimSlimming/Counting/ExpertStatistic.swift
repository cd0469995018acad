/// One statistic calibrate sums per MoE layer. Everything about a statistic is here and in its accumulation
/// (ExpertStatistic+Accumulate): its key in the counts file, its shape, how its terms are kept exactly, how
/// shards merge, and which `--criterion` choices rank experts by it. Storage, the file reader and writer, merge,
/// the counts rules and the help text all iterate `allCases`, so a new statistic is one case here plus its
/// accumulation. The order of the cases is the order in which a reader checks a layer's keys.
public enum ExpertStatistic: Int, CaseIterable, Sendable {
    /// Tokens whose selected top-k includes the expert.
    case hard
    /// The router's own per-expert probability (softmax or sigmoid scores; gate weights for routers that
    /// select before normalising).
    case soft
    /// Softmax of the raw router logits, the paper's literal soft count, for every family.
    case softSoftmax
    /// For the selected experts: gate weight × L2 norm of the expert's output on the token (REAP).
    case saliency
    /// The router distribution's entropy in nats, one sum per layer; mean = sum / tokens.
    case entropy

    /// One number per expert, or one number for the whole layer.
    public enum Scope: Sendable { case expert, layer }

    /// How the sum stays exact whatever order shards are added in.
    public enum Representation: Sendable {
        /// Whole tokens: the Doubles hold integers, which add exactly below 2⁵³.
        case wholeCount
        /// Real-valued terms rounded once to units of 2⁻⁶⁴ and summed as integers (ExactSums).
        case fixedPoint
    }

    /// How the values of disjoint shards combine.
    public enum Merge: Sendable { case sum }

    /// The key of the Double value (or list) in a layer object of the counts file.
    public var key: String {
        switch self {
        case .hard: "hard"
        case .soft: "soft"
        case .softSoftmax: "soft_softmax"
        case .saliency: "saliency"
        case .entropy: "entropy_sum"
        }
    }

    /// The key of the integer sum in the layer's `exact` object (fixed-point statistics only).
    var exactKey: String {
        switch self {
        case .entropy: "entropy"
        default: key
        }
    }

    public var scope: Scope {
        switch self {
        case .entropy: .layer
        default: .expert
        }
    }

    public var representation: Representation {
        switch self {
        case .hard: .wholeCount
        default: .fixedPoint
        }
    }

    public var merge: Merge { .sum }

    /// What one token adds, for the help text and formats/counts.md.
    public var summary: String {
        switch self {
        case .hard: "top-k hits"
        case .soft: "router probability"
        case .softSoftmax: "softmax of the raw router logits"
        case .saliency: "REAP: gate weight times the norm of the expert output"
        case .entropy: "router entropy in nats"
        }
    }

    /// The `--criterion` choices that rank experts by this statistic. A ranking derived from it goes here too:
    /// REAP's mean saliency per routed token would be
    /// `Criterion(name: "reap", statistic: .saliency, normalisedBy: .hard, summary: "mean saliency when routed")`.
    public var criteria: [ExpertSelection.Criterion] {
        switch self {
        case .hard, .soft, .softSoftmax, .saliency: [ExpertSelection.Criterion(self)]
        case .entropy: []
        }
    }

    /// The length of the statistic's list in a layer of `experts` experts.
    func width(experts: Int) -> Int { scope == .expert ? experts : 1 }

    /// The Double a sum of `units` stands for.
    func value(_ units: Int128) -> Double {
        switch representation {
        case .wholeCount: Double(units)
        case .fixedPoint: ExactSums.value(units)
        }
    }

    /// The combined value of two shards' values.
    func merged<Value: AdditiveArithmetic>(_ mine: Value, _ theirs: Value) -> Value {
        switch merge {
        case .sum: mine + theirs
        }
    }
}
