import MoESlimSupport
import MoESlimFamilies
import MoESlimEngine

/// One model under evaluation: a checkpoint's forward pass, with its routers masked to a plan when the plan
/// is to be judged without writing the pruned checkpoint.
public struct LogitsSource {
    public let pass: ForwardPass
    public let plan: PruningPlan?
    public let vocabSlice: Int

    public init(pass: ForwardPass, plan: PruningPlan? = nil, vocabSlice: Int = 4096) {
        self.pass = pass
        self.plan = plan
        self.vocabSlice = vocabSlice
    }

    func logits(_ sequences: [[Int32]]) throws(MoESlimError) -> [[Float]] {
        try pass.logits(sequences, masking: plan, vocabSlice: vocabSlice)
    }
}
