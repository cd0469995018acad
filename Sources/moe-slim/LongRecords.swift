import MoESlimFormats

/// Records longer than the model's context (`max_position_embeddings`): run anyway, since the forward pass
/// computes them, but their later positions are past what the model was trained on, so the user hears of it
/// once, with the count, after the run.
final class LongRecords {
    private let context: Int?
    private var count = 0
    private var longest = 0

    init(_ checkpoint: Checkpoint) {
        context = checkpoint.config?["max_position_embeddings"]?.intValue.flatMap { $0 > 0 ? $0 : nil }
    }

    func note(_ tokens: Int) {
        guard let context, tokens > context else { return }
        count += 1
        longest = max(longest, tokens)
    }

    func warn() {
        guard let context, count > 0 else { return }
        let records = count == 1 ? "1 record is" : "\(count) records are"
        printError("moe-slim: warning: \(records) longer than the model's context (max_position_embeddings \(context) in config.json), the longest \(longest) tokens; --seq-len \(context) cuts records into windows that fit")
    }
}
