import MoESlimSupport
import MoESlimSlimming

/// One row of the sweep table: how its plan was made (from counts, or read from a plan file), what the pruned
/// checkpoint would weigh, and which evaluated model holds its results.
struct SweepRow {
    var sparsity: Double
    var strategy: String
    var criterion: String
    var planFile: String?
    var size: SizeReport
    /// 0 for the unpruned model; rows whose plans coincide share one index, so one evaluation.
    var model: Int

    var isBase: Bool { model == 0 }

    /// The columns that say which plan this is; the plan-file column only when the sweep has plan files.
    func labels(withPlanFile: Bool) -> [String] {
        [String(format: "%.3f", sparsity), strategy, criterion] + (withPlanFile ? [planFile ?? "-"] : [])
    }

    var labelMembers: [(key: String, value: JSONValue)] {
        var members: [(key: String, value: JSONValue)] = [
            ("sparsity", EvalOutput.number(sparsity)), ("strategy", .string(strategy)), ("criterion", .string(criterion)),
        ]
        if let planFile { members.append(("plan", .string(planFile))) }
        return members
    }
}
