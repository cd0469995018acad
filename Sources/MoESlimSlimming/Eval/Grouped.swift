import MoESlimSupport

/// A metric over all records and per `--group-by` value, groups in the order they first appear so reports
/// list them as the data does.
public struct Grouped<Metric: Sendable & Equatable>: Sendable, Equatable {
    public private(set) var total: Metric
    public private(set) var groups: [String] = []
    /// By the group value's bytes: values from data files that are only canonically equivalent stay apart.
    public private(set) var byGroup: [ByteName: Metric] = [:]
    private let empty: Metric

    public init(empty: Metric) {
        self.total = empty
        self.empty = empty
    }

    public mutating func update(_ group: String?, _ body: (inout Metric) -> Void) {
        body(&total)
        guard let group else { return }
        let key = ByteName(group)
        if byGroup[key] == nil {
            groups.append(group)
            byGroup[key] = empty
        }
        body(&byGroup[key]!)
    }
}
