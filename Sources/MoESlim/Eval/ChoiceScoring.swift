/// Multiple-choice scoring as lm-evaluation-harness scores MMLU: each choice's log-likelihood is the sum of
/// the log-probabilities of its tokens after the prompt, and the pick is the highest; no text is generated.
public struct ChoiceScoring: Sendable, Equatable {
    public var questions = 0
    public var correct = 0

    public init() {}

    public var accuracy: Double { questions == 0 ? .nan : Double(correct) / Double(questions) }

    /// The continuation's tokens as the harness splits them: encode prompt + choice whole, and take what
    /// follows the prompt's own encoding (trailing spaces of the prompt move to the choice first).
    public static func split(prompt: String, choice: String) -> (context: String, continuation: String) {
        var context = prompt
        var continuation = choice
        while context.last == " " {
            context.removeLast()
            continuation = " " + continuation
        }
        return (context, continuation)
    }

    /// Sum of log p(continuation token | everything before it), from logits of the whole sequence.
    public static func logLikelihood(logits: [Float], vocab: Int, sequence: [Int32], continuationStart: Int) -> Double {
        var total = 0.0
        for t in max(continuationStart, 1)..<sequence.count {
            let row = LogSoftmax.row(logits[((t - 1) * vocab)..<(t * vocab)])
            total += row[Int(sequence[t])]
        }
        return total
    }

    /// Records one question; ties go to the first choice, as argmax in the harness does.
    public mutating func add(choiceLogLikelihoods: [Double], answer: Int) {
        guard let best = choiceLogLikelihoods.indices.max(by: { choiceLogLikelihoods[$0] < choiceLogLikelihoods[$1] || (choiceLogLikelihoods[$0] == choiceLogLikelihoods[$1] && $0 > $1) })
        else { return }
        questions += 1
        if best == answer { correct += 1 }
    }
}
