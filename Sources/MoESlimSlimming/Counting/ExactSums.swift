import MoESlimEngine

/// Sums of non-negative reals kept as integers in units of 2⁻⁶⁴, one list per fixed-point statistic
/// (ExpertStatistic.representation). Integer addition is associative, so counts of disjoint data shards merge
/// to exactly the counts of one run, which floating-point sums cannot promise. 2⁻⁶⁴ is far below Float32
/// resolution of router probabilities, and Int128 leaves room for 10¹⁸ tokens.
public struct ExactSums: Sendable, Equatable {
    /// Empty for statistics that are whole counts: their Doubles are exact already.
    public internal(set) var units: PerStatistic<Int128>

    static let scale = 18_446_744_073_709_551_616.0

    /// The largest real sum a file may state (2⁶², that is 2¹²⁶ units, within Int128), and the largest term one
    /// token may add (2⁴⁰: router probabilities are at most 1; a gate weight times an expert output's norm
    /// beyond it is a broken model, refused by the forward pass). Both keep `units` and the sums from trapping.
    static let largestSum = 0x1p62
    static let largestTerm = RoutingRecord.largestTerm

    /// The statistics this table holds, in file order.
    static var statistics: [ExpertStatistic] { ExpertStatistic.allCases.filter { $0.representation == .fixedPoint } }

    init(units: PerStatistic<Int128>) { self.units = units }

    /// Sums that so far exist only as Doubles (a new layer, or a file written without exact sums).
    init(approximating layer: ExpertCounts.Layer) {
        units = PerStatistic { statistic in
            statistic.representation == .fixedPoint ? layer.sums[statistic].map(statistic.units) : []
        }
    }

    /// Non-finite terms (a model with NaN weights) count as zero; `verify --scan` is the tool that finds them.
    @inline(__always) static func units(_ value: Double) -> Int128 {
        value.isFinite && value > 0 ? Int128((value * scale).rounded()) : 0
    }

    /// The same for a term that may be negative (a projection's component).
    @inline(__always) static func signedUnits(_ value: Double) -> Int128 {
        value.isFinite ? Int128((value * scale).rounded()) : 0
    }

    static func value(_ units: Int128) -> Double { Double(units) / scale }

    /// Whether every sum of the two stays within Int128: a counts file is read as any non-negative integers,
    /// so two near the top would trap when added.
    func canAbsorb(_ other: ExactSums) -> Bool {
        Self.statistics.allSatisfy { statistic in
            statistic.merge == .maximum
                || zip(units[statistic], other.units[statistic]).allSatisfy { !$0.addingReportingOverflow($1).overflow }
        }
    }

    /// A statistic only one side has is dropped (ExpertCounts.Layer.absorb).
    mutating func absorb(_ other: ExactSums) {
        for statistic in Self.statistics {
            guard units[statistic].count == other.units[statistic].count else {
                units[statistic] = []
                continue
            }
            for j in units[statistic].indices {
                units[statistic][j] = statistic.merged(units[statistic][j], other.units[statistic][j])
            }
        }
    }
}

extension ExpertCounts.Layer {
    /// Re-derives the readable Double sums from the exact ones.
    mutating func refreshFromExact() {
        guard let exact else { return }
        for statistic in ExactSums.statistics {
            sums[statistic] = exact.units[statistic].map(statistic.value)
        }
    }
}
