import XCTest
@testable import MoESlimText
@testable import MoESlimSlimming

/// Perplexity, KL, top-1 agreement and choice accuracy from transformers' own logits must equal what torch
/// computed from the same logits (fixtures/gen_eval.py).
final class EvalMetricsTests: XCTestCase {
    struct Golden: Decodable {
        struct Choice: Decodable {
            var prompt: [Int32]
            var choices: [[Int32]]
            var answer: Int
            var logits: [[Float]]
            var loglikelihoods: [Double]
            var pick: Int
        }
        var sequences: [[Int32]]
        var base_logits: [[Float]]
        var pruned_logits: [[Float]]
        var perplexity_base: Double
        var perplexity_pruned: Double
        var kl: Double
        var top1_agreement: Double
        var tokens: Int
        var vocab: Int
        var choice: [Choice]
    }

    func golden(_ family: String) throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: Data(contentsOf: Fixtures.root.appendingPathComponent("eval/\(family).json")))
    }

    func testPerplexityKLAndAgreementMatchTorch() throws {
        for family in ["mixtral", "qwen3_moe"] {
            let g = try golden(family)
            var base = NextTokenMetrics()
            var pruned = NextTokenMetrics()
            for (i, seq) in g.sequences.enumerated() {
                base.add(logits: g.base_logits[i], vocab: g.vocab, sequence: seq)
                pruned.add(logits: g.pruned_logits[i], vocab: g.vocab, sequence: seq)
                pruned.compare(base: g.base_logits[i], other: g.pruned_logits[i], vocab: g.vocab, sequence: seq)
            }
            XCTAssertEqual(base.tokens, g.tokens)
            XCTAssertEqual(base.perplexity, g.perplexity_base, accuracy: g.perplexity_base * 1e-6, family)
            XCTAssertEqual(pruned.perplexity, g.perplexity_pruned, accuracy: g.perplexity_pruned * 1e-6, family)
            XCTAssertEqual(pruned.kl, g.kl, accuracy: 1e-9, family)
            XCTAssertEqual(pruned.top1Agreement, g.top1_agreement, accuracy: 1e-12, family)
        }
    }

    func testChoiceScoringMatchesTheHarnessRule() throws {
        let g = try golden("mixtral")
        var scoring = ChoiceScoring()
        for q in g.choice {
            var scores: [Double] = []
            for (c, choice) in q.choices.enumerated() {
                let seq = q.prompt + choice
                let ll = ChoiceScoring.logLikelihood(logits: q.logits[c], vocab: g.vocab, sequence: seq, continuationStart: q.prompt.count)
                XCTAssertEqual(ll, q.loglikelihoods[c], accuracy: 1e-9)
                scores.append(ll)
            }
            scoring.add(choiceLogLikelihoods: scores, answer: q.answer)
        }
        let expected = Double(g.choice.filter { $0.pick == $0.answer }.count) / Double(g.choice.count)
        XCTAssertEqual(scoring.accuracy, expected)
    }

    func testPromptTrailingSpacesMoveToTheChoice() {
        XCTAssertEqual(ChoiceScoring.split(prompt: "Answer: ", choice: "B").context, "Answer:")
        XCTAssertEqual(ChoiceScoring.split(prompt: "Answer: ", choice: "B").continuation, " B")
        // The harness uses Python's rstrip(): newlines and tabs move too.
        XCTAssertEqual(ChoiceScoring.split(prompt: "Q?\n\t", choice: "B").context, "Q?")
        XCTAssertEqual(ChoiceScoring.split(prompt: "Q?\n\t", choice: "B").continuation, "\n\tB")
    }
}
