import Foundation
import MoESlimSupport
import MoESlimText
import MoESlimEngine

/// Runs records through several models a chunk at a time: each model's perplexity, and for every model after
/// the first its KL from the first and top-1 agreement with it. Only the first model's logits and one other's
/// are alive at once, so a sweep over many plans needs no more memory than a comparison of two.
public struct PerplexityEvaluation {
    public let models: [LogitsSource]
    public let chunkTokens: Int

    public init(models: [LogitsSource], chunkTokens: Int) {
        self.models = models
        self.chunkTokens = chunkTokens
    }

    public func run(
        next: @escaping () throws(MoESlimError) -> CalibrationRecord?, progress: (Calibration.Progress) -> Void = { _ in }
    ) throws(MoESlimError) -> [Grouped<NextTokenMetrics>] {
        var results = models.map { _ in Grouped(empty: NextTokenMetrics()) }
        var chunks = TokenChunks(limit: chunkTokens, size: { $0.tokens.count }, next: next)
        let start = Date()
        var done = Calibration.Progress(tokens: 0, sequences: 0, seconds: 0)
        while true {
            let chunk = try chunks.take()
            if chunk.isEmpty { break }
            let sequences = chunk.map(\.tokens)
            let base = try models[0].logits(sequences)
            let baseMetrics = Self.perRecord(chunk.count) { i in
                var m = NextTokenMetrics()
                m.add(logits: base[i], vocab: base[i].count / sequences[i].count, sequence: sequences[i])
                return m
            }
            for (i, record) in chunk.enumerated() { results[0].update(record.group) { $0 = $0 + baseMetrics[i] } }
            for m in models.indices.dropFirst() {
                let other = try models[m].logits(sequences)
                if let i = sequences.indices.first(where: { other[$0].count != base[$0].count }) {
                    throw MoESlimError(.invalidArgument, "the models have different vocabularies (\(base[i].count / sequences[i].count) and \(other[i].count / sequences[i].count) entries); KL needs the same tokens")
                }
                let metrics = Self.perRecord(chunk.count) { i in
                    var metric = NextTokenMetrics()
                    let vocab = base[i].count / sequences[i].count
                    metric.add(logits: other[i], vocab: vocab, sequence: sequences[i])
                    metric.compare(base: base[i], other: other[i], vocab: vocab, sequence: sequences[i])
                    return metric
                }
                for (i, record) in chunk.enumerated() { results[m].update(record.group) { $0 = $0 + metrics[i] } }
            }
            done.add(tokens: sequences.reduce(0) { $0 + $1.count }, sequences: sequences.count, since: start)
            progress(done)
        }
        return results
    }

    /// Each record's metrics on its own core: a log-softmax over the whole vocabulary per token costs about as
    /// much as the lm_head. Records are summed afterwards in order, so totals do not depend on the core count.
    static func perRecord(_ count: Int, _ body: @Sendable (Int) -> NextTokenMetrics) -> [NextTokenMetrics] {
        var out = [NextTokenMetrics](repeating: NextTokenMetrics(), count: count)
        out.withUnsafeMutableBufferPointer { buffer in
            let target = SharedPointer(base: buffer.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: count) { i in target.base[i] = body(i) }
        }
        return out
    }
}
