/// One multiple-choice question, already tokenized the harness's way: per choice the whole sequence and where
/// the choice's own tokens start.
public struct ChoiceQuestion: Sendable {
    public var choices: [(tokens: [Int32], continuationStart: Int)]
    public var answer: Int
    public var group: String?

    public init(choices: [(tokens: [Int32], continuationStart: Int)], answer: Int, group: String? = nil) {
        self.choices = choices
        self.answer = answer
        self.group = group
    }

    package var tokenCount: Int { choices.reduce(0) { $0 + $1.tokens.count } }
}
