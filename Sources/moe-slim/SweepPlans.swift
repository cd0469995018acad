import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies
import MoESlimSlimming

/// The sweep's rows and the distinct plans behind them, built as `prune` would build each plan, so a row's
/// bytes and FLOPs are those of `prune --dry-run`.
struct SweepPlans {
    let checkpoint: Checkpoint
    let model: ModelDescription
    let context: Int
    private(set) var rows: [SweepRow]
    /// Evaluated once each, as models 1, 2, …; rows that choose the same experts point at the same plan.
    private(set) var plans: [PruningPlan] = []

    init(checkpoint: Checkpoint, model: ModelDescription, context: Int) throws(MoESlimError) {
        self.checkpoint = checkpoint
        self.model = model
        self.context = context
        rows = [SweepRow(sparsity: 0, strategy: "base", criterion: "-", size: try SizeReport(checkpoint, context: context), model: 0)]
    }

    mutating func add(_ plan: PruningPlan, sparsity: Double, strategy: String, criterion: String, planFile: String? = nil) throws(MoESlimError) {
        let transform = try PruneTransform(checkpoint: checkpoint, model: model, plan: plan)
        let size = SizeReport(model: transform.prunedDescription(model), tensors: transform.tensorShapes, path: "(pruned)", context: context)
        if !plans.contains(plan) { plans.append(plan) }
        rows.append(SweepRow(sparsity: sparsity, strategy: strategy, criterion: criterion, planFile: planFile, size: size,
                             model: 1 + plans.firstIndex(of: plan)!))
    }

    /// A plan file read as `prune --plan` reads it; its sparsity is the share of routed experts it removes.
    mutating func add(planFile: String, topK: Int?) throws(MoESlimError) {
        let plan = try PruningPlan.load(planFile, for: model, topK: topK)
        let experts = model.moeLayers.reduce(0) { $0 + $1.numExperts }
        let kept = model.moeLayers.reduce(0) { $0 + plan.keptExperts(layer: $1).count }
        try add(plan, sparsity: experts == 0 ? 0 : 1 - Double(kept) / Double(experts), strategy: "plan", criterion: "-", planFile: planFile)
    }
}
