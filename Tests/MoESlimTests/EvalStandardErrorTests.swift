import Foundation
import XCTest

@testable import MoESlimSlimming

/// eval's perplexity ± (formats/eval.md): the standard error of the mean per-token NLL, carried to perplexity
/// by the delta method; checked against the same computation on transformers' float32 logits.
final class EvalStandardErrorTests: XCTestCase {
    let model = Fixtures.root.appendingPathComponent("tiny-mixtral").path

    /// transformers (float32, eager) over calib.txt, one record per line: 431 predictions, perplexity
    /// 439.5588, ± = perplexity · sqrt(s²/N) with s² the sample variance of the per-token NLL.
    let torchStandardError = 10.735829797724655

    func testStandardErrorByHand() {
        // Vocabulary 2, logits (0, log 3): p = 1/4, 3/4. Tokens 1, 0, 1: NLLs log(4/3), log 4.
        let l = Float(log(3.0))
        var m = NextTokenMetrics()
        m.add(logits: [0, l, 0, l, 0, l], vocab: 2, sequence: [0, 1, 0])
        let nll = [log(4.0 / 3.0), log(4.0)]
        let mean = (nll[0] + nll[1]) / 2
        let variance = ((nll[0] - mean) * (nll[0] - mean) + (nll[1] - mean) * (nll[1] - mean)) / 1
        XCTAssertEqual(m.perplexityStandardError, exp(mean) * (variance / 2).squareRoot(), accuracy: 1e-6)
        var one = NextTokenMetrics()
        one.add(logits: [0, l, 0, l], vocab: 2, sequence: [0, 1])
        XCTAssertTrue(one.perplexityStandardError.isNaN, "no spread from one prediction")
    }

    func testEvalPrintsPerplexityWithItsStandardError() throws {
        let json = try CommandRunner.run(["eval", model, "--data", model + "/calib.txt", "--json", "--compute", "f32"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(object["perplexity_se"] as! Double, torchStandardError, accuracy: torchStandardError * 1e-3)
        let text = try CommandRunner.run(["eval", model, "--data", model + "/calib.txt", "--compute", "f32"])
        XCTAssertTrue(text.stdout.contains(String(format: "perplexity %.4f ± %.4f over 431 tokens", object["perplexity"] as! Double, object["perplexity_se"] as! Double)), text.stdout)
    }

    func testAgainstAModelWithAnotherVocabularySaysSo() throws {
        let dir = try Fixtures.scratch()
        let other = dir + "/other"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        var config = try Fixtures.json(model + "/config.json")
        config["vocab_size"] = 400
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: other + "/config.json"))
        try FileManager.default.createSymbolicLink(atPath: other + "/model.safetensors", withDestinationPath: model + "/model.safetensors")
        let r = try CommandRunner.run(["eval", model, "--against", other, "--data", model + "/calib.txt"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("moe-slim: error: \(other): "), r.stderr)
    }
}
