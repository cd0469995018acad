import Foundation
import MoESlimSupport
import MoESlimText

/// Accuracy of each model on multiple-choice questions, a chunk of questions (all their choices) per pass.
public struct ChoiceEvaluation {
    public let models: [LogitsSource]
    public let chunkTokens: Int

    public init(models: [LogitsSource], chunkTokens: Int) {
        self.models = models
        self.chunkTokens = chunkTokens
    }

    public func run(
        next: @escaping () throws(MoESlimError) -> ChoiceQuestion?, progress: (Calibration.Progress) -> Void = { _ in }
    ) throws(MoESlimError) -> [Grouped<ChoiceScoring>] {
        var results = models.map { _ in Grouped(empty: ChoiceScoring()) }
        var chunks = TokenChunks(limit: chunkTokens, size: { $0.tokenCount }, next: next)
        let start = Date()
        var done = Calibration.Progress(tokens: 0, sequences: 0, seconds: 0)
        while true {
            let chunk = try chunks.take()
            if chunk.isEmpty { break }
            let sequences = chunk.flatMap { $0.choices.map(\.tokens) }
            for m in models.indices {
                let logits = try models[m].logits(sequences)
                var s = 0
                for question in chunk {
                    let scores = question.choices.map { choice in
                        defer { s += 1 }
                        return ChoiceScoring.logLikelihood(
                            logits: logits[s], vocab: logits[s].count / choice.tokens.count, sequence: choice.tokens,
                            continuationStart: choice.continuationStart)
                    }
                    results[m].update(question.group) { $0.add(choiceLogLikelihoods: scores, answer: question.answer) }
                }
            }
            done.add(tokens: sequences.reduce(0) { $0 + $1.count }, sequences: chunk.count, since: start)
            progress(done)
        }
        return results
    }
}
