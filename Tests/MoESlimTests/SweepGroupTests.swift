import XCTest

/// `sweep --group-by`: every row's metrics per group, equal to what eval reports per group for the base model
/// and for the checkpoint prune wrote for the plan.
final class SweepGroupTests: XCTestCase {
    let model = SweepFixture.model
    let questions = SweepFixture.questions

    func testPerplexityPerGroupEqualsEvalAgainstThePrunedCheckpoint() throws {
        let f = try SweepFixture()
        let data = ["--data", questions, "--text-field", "question", "--group-by", "subject"]
        let sweep = try SweepFixture.json(["sweep", model, "--plan", f.plan] + data)
        let rows = sweep["rows"] as! [[String: Any]]
        let eval = try SweepFixture.json(["eval", model, "--against", f.pruned] + data)
        let evalGroups = eval["groups"] as! [String: [String: Any]]
        let baseGroups = rows[0]["groups"] as! [String: [String: Any]]
        let planGroups = rows[1]["groups"] as! [String: [String: Any]]
        XCTAssertEqual(Set(baseGroups.keys), ["prose", "code"])
        XCTAssertEqual(Set(baseGroups["code"]!.keys), ["perplexity", "perplexity_se", "tokens"], "the base row is compared with nothing")
        XCTAssertEqual(Set(planGroups["code"]!.keys), ["perplexity", "perplexity_se", "tokens", "kl", "top1_agreement"])
        XCTAssertEqual(baseGroups.values.map { $0["tokens"] as! Int }.reduce(0, +), rows[0]["tokens"] as? Int)
        for group in ["prose", "code"] {
            let e = evalGroups[group]!
            XCTAssertEqual(baseGroups[group]!["tokens"] as? Int, e["tokens"] as? Int, group)
            XCTAssertEqual(baseGroups[group]!["perplexity"] as! Double, e["perplexity"] as! Double, accuracy: (e["perplexity"] as! Double) * 1e-9, group)
            XCTAssertEqual(planGroups[group]!["perplexity"] as! Double, e["against_perplexity"] as! Double, accuracy: (e["against_perplexity"] as! Double) * 1e-5, group)
            XCTAssertEqual(planGroups[group]!["kl"] as! Double, e["kl"] as! Double, accuracy: 1e-6, group)
            XCTAssertEqual(planGroups[group]!["top1_agreement"] as? Double, e["top1_agreement"] as? Double, group)
        }
    }

    func testTheTableIsFollowedByOneTablePerGroup() throws {
        let f = try SweepFixture()
        let r = try CommandRunner.run([
            "sweep", model, "--counts", f.counts, "--sparsity", "0.25", "--data", questions, "--text-field", "question", "--group-by", "subject",
        ])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let eval = try SweepFixture.json(["eval", model, "--data", questions, "--text-field", "question", "--group-by", "subject"])
        let groups = eval["groups"] as! [String: [String: Any]]
        XCTAssertEqual(lines.count, 4 + 2 * 4, r.stdout)
        XCTAssertEqual(lines[4], "group prose: \(groups["prose"]!["tokens"] as! Int) tokens", "groups in the order of the data")
        XCTAssertEqual(words(lines[5]), "sparsity strategy criterion perplexity ± s.e. KL vs base top-1 agree")
        let base = words(lines[6]).split(separator: " ").map(String.init)
        XCTAssertEqual(base.count, 7, lines[6])
        XCTAssertEqual(base[..<4].joined(separator: " "), "0.000 base - " + String(format: "%.4f", groups["prose"]!["perplexity"] as! Double))
        XCTAssertGreaterThan(Double(base[4]) ?? 0, 0, "the perplexity's ±")
        XCTAssertEqual(base[5...].joined(separator: " "), "- -")
        XCTAssertTrue(words(lines[7]).hasPrefix("0.250 layer hard "), lines[7])
        XCTAssertEqual(lines[8], "group code: \(groups["code"]!["tokens"] as! Int) tokens")
    }

    func testChoiceAccuracyPerGroup() throws {
        let f = try SweepFixture()
        let sweep = try SweepFixture.json([
            "sweep", model, "--counts", f.counts, "--sparsity", "0.25", "--data", questions, "--task", "choice",
            "--choices-field", "options", "--answer-field", "label", "--group-by", "subject",
        ])
        let rows = sweep["rows"] as! [[String: Any]]
        let base = rows[0]["groups"] as! [String: [String: Any]]
        XCTAssertEqual(base["code"]?["accuracy"] as? Double, 1, "as eval reports it (EvalCommandTests)")
        XCTAssertEqual(base["prose"]?["questions"] as? Int, 3)
        let plan = rows[1]["groups"] as! [String: [String: Any]]
        XCTAssertEqual(Set(plan["prose"]!.keys), ["accuracy", "questions"])
        XCTAssertEqual(plan.values.map { $0["questions"] as! Int }.reduce(0, +), 4)
    }

    private func words(_ line: String) -> String { line.split(separator: " ").joined(separator: " ") }
}
