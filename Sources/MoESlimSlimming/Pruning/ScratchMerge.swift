import Foundation
import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies

/// The checkpoint `prune --merge` would write for a plan, written into a temporary folder of the system's
/// temporary directory (TMPDIR) so `sweep --merge` can run it like any model; removed when this is released, on
/// Ctrl-C or a fault, and after kill -9 by the next run that writes there (Temporary). It takes the disk space of
/// the pruned model, never its memory.
public final class ScratchMerge {
    private let folder: Temporary
    public let checkpoint: Checkpoint

    public init(
        input: Checkpoint, model: ModelDescription, plan: PruningPlan, counts: ExpertCounts, countsPath: String,
        similarity: ExpertMerge.Similarity? = nil
    ) throws(MoESlimError) {
        let merge = try ExpertMerge(checkpoint: input, model: model, plan: plan, counts: counts, countsPath: countsPath, similarity: similarity)
        let transform = try PruneTransform(checkpoint: input, model: model, plan: plan, merge: merge)
        folder = try Temporary(beside: FileSystem.join(NSTemporaryDirectory(), "moe-slim-merge"), folder: true)
        // One file and its config.json, directly in the temporary folder, which is what a removal takes away.
        let destination = FileSystem.join(folder.path, "model.safetensors")
        try PruneWriter(input: input, transform: transform, destination: destination, sharding: .keepInput, force: false, singleFile: true).write()
        checkpoint = try Checkpoint(path: destination)
    }
}
