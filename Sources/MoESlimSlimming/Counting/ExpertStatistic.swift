import MoESlimSupport
import MoESlimEngine

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
    /// For the selected experts: L2 norm of the expert's output on the token, without the gate weight (EAN).
    case ean
    /// For the selected experts: the largest |component| of the expert's output (its down projection) over
    /// the tokens, merged as a maximum: super experts (Su et al. 2025; REAP) stand out by it.
    case maxAbsOutput
    /// For the selected experts: OutputSketch's 64-number random projection of the expert's output, summed, so
    /// cosines of the sums compare experts by their mean output (HC-SMoE; `prune --merge`).
    case outputSketch

    /// One number per expert, one number for the whole layer, or OutputSketch.width numbers per expert (a list
    /// of lists in the file, expert after expert in `sums`).
    public enum Scope: Sendable { case expert, layer, expertVector }

    /// How the sum stays exact whatever order shards are added in.
    public enum Representation: Sendable {
        /// Whole tokens: the Doubles hold integers, which add exactly below 2⁵³.
        case wholeCount
        /// Real-valued terms rounded once to units of 2⁻⁶⁴ and summed (or maximised) as integers (ExactSums).
        case fixedPoint
    }

    /// Whether a term may be negative (a projection's component); every other statistic is a sum of terms ≥ 0,
    /// and a negative value in its file is refused.
    public var signed: Bool { self == .outputSketch }

    /// How the values of disjoint shards combine.
    public enum Merge: Sendable { case sum, maximum }

    /// The key of the Double value (or list) in a layer object of the counts file.
    public var key: String {
        switch self {
        case .hard: "hard"
        case .soft: "soft"
        case .softSoftmax: "soft_softmax"
        case .saliency: "saliency"
        case .entropy: "entropy_sum"
        case .ean: "ean"
        case .maxAbsOutput: "max_abs_output"
        case .outputSketch: "output_sketch"
        }
    }

    /// Whether every layer of a counts file has the key. Statistics added after the first release are optional
    /// for readers, so older counts files keep working with the criteria that do not need them; a criterion that
    /// ranks by an absent one refuses the file, naming the key (formats/counts.md, "Keys added later").
    public var requiredInFile: Bool {
        switch self {
        case .hard, .soft, .softSoftmax, .saliency, .entropy: true
        case .ean, .maxAbsOutput, .outputSketch: false
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
        case .outputSketch: .expertVector
        default: .expert
        }
    }

    public var representation: Representation {
        switch self {
        case .hard: .wholeCount
        default: .fixedPoint
        }
    }

    public var merge: Merge {
        switch self {
        case .maxAbsOutput: .maximum
        default: .sum
        }
    }

    /// What one token adds, for the help text and formats/counts.md.
    public var summary: String {
        switch self {
        case .hard: "top-k hits"
        case .soft: "router probability"
        case .softSoftmax: "softmax of the raw router logits"
        case .saliency: "sum over routed tokens of gate weight times the norm of the expert output"
        case .entropy: "router entropy in nats"
        case .ean: "sum over routed tokens of the norm of the expert output (EAN)"
        case .maxAbsOutput: "largest |expert output| over routed tokens (super experts)"
        case .outputSketch: "sum over routed tokens of a 64-number random projection of the expert output (prune --merge)"
        }
    }

    /// The `--criterion` choices that rank experts by this statistic, the sum itself and the means per routed
    /// token derived from it.
    public var criteria: [ExpertSelection.Criterion] {
        switch self {
        case .hard, .soft, .softSoftmax: [ExpertSelection.Criterion(self)]
        case .saliency: [
            ExpertSelection.Criterion(name: "saliency-sum", statistic: self, summary: summary),
            ExpertSelection.Criterion(name: "reap", statistic: self, normalisedBy: .hard,
                                      summary: "REAP: mean over routed tokens of gate weight times the norm of the expert output"),
        ]
        case .ean: [
            ExpertSelection.Criterion(self),
            ExpertSelection.Criterion(name: "man", statistic: self, normalisedBy: .hard,
                                      summary: "mean over routed tokens of the norm of the expert output"),
        ]
        case .entropy, .maxAbsOutput, .outputSketch: []
        }
    }

    /// The length of the statistic's list in a layer of `experts` experts.
    func width(experts: Int) -> Int {
        switch scope {
        case .expert: experts
        case .layer: 1
        case .expertVector: experts * OutputSketch.width
        }
    }

    /// The statistic's values (one list, as `sums` holds it) in the file's shape: the list, its one number, or
    /// one list per expert.
    func shaped(_ values: [JSONValue]) -> JSONValue {
        switch scope {
        case .expert: .array(values)
        case .layer: values[0]
        case .expertVector: .array(stride(from: 0, to: values.count, by: OutputSketch.width).map {
            .array(Array(values[$0..<min($0 + OutputSketch.width, values.count)]))
        })
        }
    }

    /// A sum in this statistic's fixed-point units, rounded once; negative only for a `signed` statistic.
    func units(_ value: Double) -> Int128 { signed ? ExactSums.signedUnits(value) : ExactSums.units(value) }

    /// The Double a sum of `units` stands for.
    func value(_ units: Int128) -> Double {
        switch representation {
        case .wholeCount: Double(units)
        case .fixedPoint: ExactSums.value(units)
        }
    }

    /// The combined value of two shards' values.
    func merged<Value: AdditiveArithmetic & Comparable>(_ mine: Value, _ theirs: Value) -> Value {
        switch merge {
        case .sum: mine + theirs
        case .maximum: max(mine, theirs)
        }
    }
}
