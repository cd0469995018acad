import ArgumentParser
import MoESlimSupport
import MoESlimFormats
import MoESlimEngine

/// The arithmetic and the cores of the forward pass, shared by every command that runs the model so that
/// counts, perplexity and sweeps of one model are computed alike.
struct ComputeOptions: ParsableArguments {
    /// The default --memory of calibrate, eval and sweep: one layer of a Mixtral-sized bf16 model plus a chunk of
    /// a few thousand tokens.
    static let defaultMemory = ByteSize(4 * ByteSize.gibibyte)

    @Option(help: """
        Products with bf16-stored weights: bf16 (inputs rounded to bf16, f32 sums, as torch runs a bf16 model; \
        twice as fast) or f32 (as transformers run in float32). Other weights always use f32.
        """)
    var compute: ComputePrecision = .bf16

    @Option(help: "Cores to use (default: all this process may run on).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// The forward pass for logits (eval, sweep, plan search): without the expert-output statistics and sketches
    /// that only calibrate records, which would cost every expert product a norm, a maximum and a projection.
    func logitsPass(_ checkpoint: Checkpoint) throws(MoESlimError) -> ForwardPass {
        try ForwardPass(checkpoint: checkpoint, compute: compute, measuresExpertOutputs: false)
    }

    /// --threads holds for the whole process, so commands apply it before any work.
    func applyThreads() {
        if let threads { Parallel.useThreads(threads) }
    }
}
