import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimFamilies
@testable import MoESlimText
@testable import MoESlimEngine
@testable import MoESlimSlimming

/// The engine's full forward pass (every layer, final norm, lm_head) against transformers' logits on a tiny
/// model of every family, all sequences of a family in one batch; perplexity, KL, agreement and choice
/// scoring from our own logits against torch's numbers.
final class EvalGoldenTests: XCTestCase {
    /// Every registered model type with a forward pass, on its engine fixture.
    func testEveryFamilyWithAForwardPass() {
        forEachGolden(RegisteredFamilies.forwardPassTypes) { try check($0) }
    }

    /// Storage variants of registered families: bf16 and f16 weights.
    func testMixtralBF16() throws { try check("mixtral-bf16") }
    func testOlmoeF16() throws { try check("olmoe-f16") }
    func testHunYuanMoeV1BF16() throws { try check("hunyuan_v1_moe-bf16") }
    func testAfmoeBF16() throws { try check("afmoe-bf16") }
    func testLfm2MoeBF16() throws { try check("lfm2_moe-bf16") }
    func testGemma4TextBF16() throws { try check("gemma4_text-bf16") }

    /// Every kernel path this CPU has must meet transformers' numbers.
    private func check(_ name: String) throws {
        try KernelPaths.each { _ in try checkOnePath(name) }
    }

    private func checkOnePath(_ name: String) throws {
        let golden = try EvalLogitsGolden.load(name)
        // The goldens are transformers in float32 on widened weights, which is f32 compute.
        let pass = try ForwardPass(checkpoint: Checkpoint(path: EngineGolden.folder(name)), compute: .f32)
        // A small vocabulary slice exercises the sliced lm_head.
        let logits = try pass.logits(golden.sequences, vocabSlice: 40)
        var metrics = NextTokenMetrics()
        for (s, sequence) in golden.sequences.enumerated() {
            XCTAssertEqual(logits[s].count, sequence.count * golden.vocab, name)
            XCTAssertLessThanOrEqual(EvalAssert.worst(logits[s], golden.logits[s]), 1e-4, "\(name) sequence \(s) logits")
            metrics.add(logits: logits[s], vocab: golden.vocab, sequence: sequence)
        }
        XCTAssertEqual(metrics.tokens, golden.tokens)
        XCTAssertEqual(metrics.perplexity, golden.perplexity, accuracy: golden.perplexity * 1e-4, name)
    }

    /// Without lm_head.weight the head is the embedding (tie_word_embeddings), as transformers ties them.
    func testTiedEmbeddings() throws {
        let golden = try EvalLogitsGolden.load("mixtral-tied")
        let input = try Checkpoint(path: EngineGolden.folder("mixtral"))
        var config = try input.requireConfig()
        config.set("tie_word_embeddings", .bool(true))
        let out = try Fixtures.scratch() + "/tied"
        let writer = try CheckpointWriter(destination: out, asFolder: true, sharding: .keepInput, metadata: [], force: false, inputs: [input.path])
        _ = try writer.write(
            input.names.filter { $0 != "lm_head.weight" }.compactMap { OutputTensor.copy($0, from: input) },
            extraFiles: [.init(name: "config.json", contents: Array(config.serialized().utf8))])
        let pass = try ForwardPass(checkpoint: Checkpoint(path: out))
        XCTAssertNil(pass.model.lmHeadTensor)
        let logits = try pass.logits(golden.sequences)
        XCTAssertLessThanOrEqual(EvalAssert.worst(logits[0], golden.logits[0]), 1e-4)
    }

    /// The engine's logits for a model and the checkpoint prune writes, against transformers' (gen_eval.py):
    /// perplexity of both, KL and agreement through PerplexityEvaluation.
    func testAgainstPrunedMatchesTorch() throws {
        let g = try mixtralGolden()
        let input = try Checkpoint(path: Fixtures.model("mixtral"))
        let model = try ModelFamilies.describe(input)
        let plan = try PruningPlan.load(Fixtures.model("mixtral") + "/plan.json")
        let out = try Fixtures.scratch() + "/pruned"
        let transform = try PruneTransform(checkpoint: input, model: model, plan: plan)
        try PruneWriter(input: input, transform: transform, destination: out, sharding: .keepInput, force: false).write()
        let models = [LogitsSource(pass: try ForwardPass(checkpoint: input)), LogitsSource(pass: try ForwardPass(checkpoint: Checkpoint(path: out)))]
        var records = g.sequences.map { CalibrationRecord(tokens: $0, path: "golden", line: 0) }.makeIterator()
        let results = try PerplexityEvaluation(models: models, chunkTokens: 8).run { () throws(MoESlimError) in records.next() }
        XCTAssertEqual(results[0].total.tokens, g.tokens)
        XCTAssertEqual(results[0].total.perplexity, g.perplexity_base, accuracy: g.perplexity_base * 1e-4)
        XCTAssertEqual(results[1].total.perplexity, g.perplexity_pruned, accuracy: g.perplexity_pruned * 1e-4)
        XCTAssertEqual(results[1].total.kl, g.kl, accuracy: max(1e-5, g.kl * 1e-3))
        XCTAssertEqual(results[1].total.top1Agreement, g.top1_agreement)
    }

    /// Pre-tokenized questions (gen_eval.py's CHOICES) scored from our logits pick what torch picks.
    func testTokenChoicesMatchTorch() throws {
        let g = try mixtralGolden()
        let pass = try ForwardPass(checkpoint: Checkpoint(path: Fixtures.model("mixtral")))
        var questions = g.choice.map { q in
            ChoiceQuestion(choices: q.choices.map { (q.prompt + $0, q.prompt.count) }, answer: q.answer)
        }.makeIterator()
        let results = try ChoiceEvaluation(models: [LogitsSource(pass: pass)], chunkTokens: 64).run { () throws(MoESlimError) in questions.next() }
        let expected = Double(g.choice.filter { $0.pick == $0.answer }.count) / Double(g.choice.count)
        XCTAssertEqual(results[0].total.accuracy, expected)
        for q in g.choice {
            for (c, choice) in q.choices.enumerated() {
                let seq = q.prompt + choice
                let logits = try pass.logits([seq])[0]
                let ll = ChoiceScoring.logLikelihood(logits: logits, vocab: g.vocab, sequence: seq, continuationStart: q.prompt.count)
                XCTAssertEqual(ll, q.loglikelihoods[c], accuracy: 1e-4 * max(1, abs(q.loglikelihoods[c])))
            }
        }
    }

    /// Text questions: the reader's harness-style tokens and the engine's scores against transformers and
    /// the Hugging Face tokenizer on fixtures/tiny-mixtral.
    func testTextChoicesMatchTheHarness() throws {
        let g = try TextChoiceGolden.load()
        let folder = Fixtures.root.appendingPathComponent("tiny-mixtral").path
        let tokenizer = try Tokenizer(path: folder + "/tokenizer.json")
        var options = DataReaderOptions()
        options.groupBy = "subject"
        let reader = try ChoiceRecordReader(
            paths: [Fixtures.root.appendingPathComponent("eval/choice-text.jsonl").path], options: options,
            fields: .init(prompt: "question", choices: "options", answer: "label"), tokenizer: tokenizer)
        var read: [ChoiceQuestion] = []
        while let q = try reader.next() { read.append(q) }
        XCTAssertEqual(read.count, g.questions.count)
        for (ours, expected) in zip(read, g.questions) {
            XCTAssertEqual(ours.choices.map(\.tokens), expected.sequences.map(\.tokens), expected.prompt)
            XCTAssertEqual(ours.choices.map(\.continuationStart), expected.sequences.map(\.continuationStart), expected.prompt)
        }
        let pass = try ForwardPass(checkpoint: Checkpoint(path: folder))
        var iterator = read.makeIterator()
        let results = try ChoiceEvaluation(models: [LogitsSource(pass: pass)], chunkTokens: 1).run { () throws(MoESlimError) in iterator.next() }
        XCTAssertEqual(results[0].total.accuracy, g.accuracy)
        XCTAssertEqual(results[0].groups, ["prose", "code"])
        for (q, expected) in zip(read, g.questions) {
            let logits = try pass.logits(q.choices.map(\.tokens))
            for (c, choice) in q.choices.enumerated() {
                let ll = ChoiceScoring.logLikelihood(logits: logits[c], vocab: pass.model.vocabSize, sequence: choice.tokens, continuationStart: choice.continuationStart)
                XCTAssertEqual(ll, expected.loglikelihoods[c], accuracy: 1e-4 * max(1, abs(expected.loglikelihoods[c])), expected.prompt)
            }
        }
    }

    private func mixtralGolden() throws -> EvalMetricsTests.Golden {
        try JSONDecoder().decode(EvalMetricsTests.Golden.self, from: Data(contentsOf: Fixtures.root.appendingPathComponent("eval/mixtral.json")))
    }
}
