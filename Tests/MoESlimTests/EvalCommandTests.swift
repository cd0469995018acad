import XCTest

/// `moe-slim eval` and `moe-slim sweep` as users run them on fixtures/tiny-mixtral.
final class EvalCommandTests: XCTestCase {
    let model = Fixtures.root.appendingPathComponent("tiny-mixtral").path
    var calib: String { model + "/calib.txt" }
    let choices = Fixtures.root.appendingPathComponent("eval/choice-text.jsonl").path

    /// transformers' perplexity of calib.txt, one record per line (computed as in fixtures/gen_eval.py).
    let torchPerplexity = 439.5587688980813

    func testEvalJSONPerplexity() throws {
        let r = try CommandRunner.run(["eval", model, "--data", calib, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(json["tokens"] as? Int, 431)
        XCTAssertEqual(json["perplexity"] as! Double, torchPerplexity, accuracy: torchPerplexity * 1e-4)
        XCTAssertTrue(r.stderr.contains("eval: "), "progress line")
    }

    func testEvalAgainstItselfAgreesFully() throws {
        let r = try CommandRunner.run(["eval", model, "--against", model, "--data", calib, "--json", "--max-records", "3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(json["kl"] as! Double, 0, accuracy: 1e-12)
        XCTAssertEqual(json["top1_agreement"] as? Double, 1)
        XCTAssertEqual(json["against_perplexity"] as? Double, json["perplexity"] as? Double)
    }

    func testEvalChoiceAccuracyPerGroup() throws {
        let r = try CommandRunner.run([
            "eval", model, "--data", choices, "--task", "choice", "--choices-field", "options", "--answer-field", "label",
            "--group-by", "subject", "--json",
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(json["accuracy"] as? Double, 0.75)
        let groups = json["groups"] as! [String: [String: Any]]
        XCTAssertEqual(groups["code"]?["accuracy"] as? Double, 1)
        XCTAssertEqual(groups["prose"]?["questions"] as? Int, 3)
    }

    func testEvalRejectsAChoiceFileWithoutTheFields() throws {
        let r = try CommandRunner.run(["eval", model, "--data", choices, "--task", "choice"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("line 1: no array field 'choices'") || r.stderr.contains("'choices'"), r.stderr)
    }

    func testSweepTable() throws {
        let counts = try Fixtures.scratch() + "/counts.json"
        let c = try CommandRunner.run(["calibrate", model, "--data", calib, "-o", counts])
        XCTAssertEqual(c.status, 0, c.stderr)
        let r = try CommandRunner.run([
            "sweep", model, "--counts", counts, "--data", calib, "--sparsity", "0.25,0.5", "--strategy", "layer,global",
            "--criterion", "hard,soft", "--max-records", "4",
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let header = lines[1].split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        XCTAssertEqual(header, "sparsity strategy criterion bytes FLOPs/token perplexity ± s.e. KL vs base top-1 agree")
        XCTAssertEqual(lines.count, 2 + 1 + 8, r.stdout)
        XCTAssertTrue(lines[2].contains("base"))

        let j = try CommandRunner.run([
            "sweep", model, "--counts", counts, "--data", calib, "--sparsity", "0.5", "--max-records", "4", "--json",
        ])
        XCTAssertEqual(j.status, 0, j.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as! [String: Any]
        let rows = json["rows"] as! [[String: Any]]
        XCTAssertEqual(rows.count, 2)
        XCTAssertEqual(Set(rows[1].keys), ["sparsity", "strategy", "criterion", "bytes", "flops_per_token", "perplexity", "perplexity_se", "tokens", "kl", "top1_agreement"])
        XCTAssertLessThan(rows[1]["bytes"] as! Int, rows[0]["bytes"] as! Int)
        XCTAssertGreaterThan(rows[1]["kl"] as! Double, 0)

        let choice = try CommandRunner.run([
            "sweep", model, "--counts", counts, "--data", choices, "--task", "choice", "--choices-field", "options",
            "--answer-field", "label", "--sparsity", "0.25", "--json",
        ])
        XCTAssertEqual(choice.status, 0, choice.stderr)
        let choiceRows = (try JSONSerialization.jsonObject(with: Data(choice.stdout.utf8)) as! [String: Any])["rows"] as! [[String: Any]]
        XCTAssertEqual(choiceRows[0]["accuracy"] as? Double, 0.75, "the base row is the unpruned model")
        XCTAssertEqual(choiceRows[1]["questions"] as? Int, 4)
    }
}
