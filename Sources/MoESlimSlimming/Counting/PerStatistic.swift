/// One list of values per statistic, indexed by the statistic, so code that stores, reads, writes or merges
/// statistics loops over `ExpertStatistic.allCases` instead of naming fields.
public struct PerStatistic<Value: Sendable & Equatable>: Sendable, Equatable {
    private var lists: [[Value]]

    /// `make` gives each statistic's list; a statistic absent from a table (hard in ExactSums) has an empty one.
    init<Failure: Error>(_ make: (ExpertStatistic) throws(Failure) -> [Value]) throws(Failure) {
        var lists: [[Value]] = []
        for statistic in ExpertStatistic.allCases { lists.append(try make(statistic)) }
        self.lists = lists
    }

    public subscript(statistic: ExpertStatistic) -> [Value] {
        get { lists[statistic.rawValue] }
        _modify { yield &lists[statistic.rawValue] }
    }
}
