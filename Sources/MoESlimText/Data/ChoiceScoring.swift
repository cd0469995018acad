/// Multiple-choice scoring as lm-evaluation-harness scores MMLU: each choice's log-likelihood is the sum of
/// the log-probabilities of its tokens after the prompt, and the pick is the highest; no text is generated.
public struct ChoiceScoring: Sendable, Equatable {
    public var questions = 0
    public var correct = 0

    public init() {}

    public var accuracy: Double { questions == 0 ? .nan : Double(correct) / Double(questions) }

    /// The continuation's tokens as the harness splits them: encode prompt + choice whole, and take what
    /// follows the prompt's own encoding (trailing whitespace of the prompt, as Python's rstrip() takes it,
    /// moves to the choice first).
    public static func split(prompt: String, choice: String) -> (context: String, continuation: String) {
        var context = prompt
        var continuation = choice
        while let last = context.last, last.isWhitespace {
            context.removeLast()
            continuation = String(last) + continuation
        }
        return (context, continuation)
    }

    /// The harness's token sequence for one choice: the context's own encoding, then what the whole text
    /// encodes to past that many tokens. Special tokens are not added (the harness's default for causal LMs).
    public static func encode(prompt: String, choice: String, tokenizer: Tokenizer) throws(TokenizerEncodeError) -> (tokens: [Int32], continuationStart: Int) {
        let (context, continuation) = split(prompt: prompt, choice: choice)
        let whole = try tokenizer.encode(bytes: Array((context + continuation).utf8), addSpecialTokens: false)
        let contextTokens = try tokenizer.encode(bytes: Array(context.utf8), addSpecialTokens: false)
        return (contextTokens + whole.dropFirst(contextTokens.count), contextTokens.count)
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
