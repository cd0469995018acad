import Foundation

/// fixtures/eval/logits/<name>.json: transformers' full-model logits on an engine fixture (fixtures/gen_eval.py).
struct EvalLogitsGolden: Decodable {
    var modelType: String
    var sequences: [[Int32]]
    var vocab: Int
    var logits: [[Float]]
    var perplexity: Double
    var tokens: Int

    enum CodingKeys: String, CodingKey {
        case sequences, vocab, logits, perplexity, tokens
        case modelType = "model_type"
    }

    static func load(_ name: String) throws -> EvalLogitsGolden {
        let url = Fixtures.root.appendingPathComponent("eval/logits/\(name).json")
        return try JSONDecoder().decode(EvalLogitsGolden.self, from: Data(contentsOf: url))
    }
}

/// fixtures/eval/choice-text.json: harness-style tokenization and scoring of text questions on tiny-mixtral.
struct TextChoiceGolden: Decodable {
    struct Sequence: Decodable {
        var tokens: [Int32]
        var continuationStart: Int
        enum CodingKeys: String, CodingKey {
            case tokens
            case continuationStart = "continuation_start"
        }
    }

    struct Question: Decodable {
        var prompt: String
        var choices: [String]
        var answer: Int
        var sequences: [Sequence]
        var loglikelihoods: [Double]
        var pick: Int
    }

    var questions: [Question]
    var accuracy: Double

    static func load() throws -> TextChoiceGolden {
        try JSONDecoder().decode(TextChoiceGolden.self, from: Data(contentsOf: Fixtures.root.appendingPathComponent("eval/choice-text.json")))
    }
}

enum EvalAssert {
    /// Largest absolute difference, relative to the logits' scale when it is above 1.
    static func worst(_ ours: [Float], _ expected: [Float]) -> Float {
        let scale = max(1, expected.map(abs).max() ?? 0)
        return (zip(ours, expected).map { abs($0 - $1) }.max() ?? 0) / scale
    }
}
