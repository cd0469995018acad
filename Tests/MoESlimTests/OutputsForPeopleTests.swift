import Foundation
import XCTest

/// Output meant for people: inspect in words with human sizes, counts show with per-expert numbers, dead
/// experts counted, and --json.
final class OutputsForPeopleTests: XCTestCase {
    let tiny = Fixtures.root.appendingPathComponent("tiny-mixtral").path

    func testInspectSpeaksInWordsAndHumanSizes() throws {
        let r = try CommandRunner.run(["inspect", tiny])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, """
            \(tiny)
              family        mixtral (grouped-query attention, softmax router)
              layers        2: 2 with experts, none with a dense MLP
              hidden/vocab  32 / 384
              tensors       65 in 1 shard
              MoE layers    2 × 8 experts, 2 per token, one tensor set per expert
              F32           506.62 KiB (518784 bytes)

            """)
        let deepseek = try CommandRunner.run(["inspect", Fixtures.model("deepseek_v3")])
        XCTAssertTrue(deepseek.stdout.contains("  family        deepseek_v3 (multi-head latent attention, sigmoid router)\n"), deepseek.stdout)
        XCTAssertTrue(deepseek.stdout.contains("  layers        3: 2 with experts, 1 with a dense MLP\n"), deepseek.stdout)
        XCTAssertTrue(deepseek.stdout.contains("  dense MLP     in layer 0\n"), deepseek.stdout)
    }

    func testCountsShowCountsDeadExpertsAndListsEveryExpert() throws {
        let dir = try Fixtures.scratch()
        let counts = dir + "/c.json"
        // Three tokens pick at most six of the eight experts in a layer: some are dead.
        let calibrate = try CommandRunner.run(["calibrate", tiny, "--data", tiny + "/calib.txt", "--max-tokens", "3", "-o", counts])
        XCTAssertEqual(calibrate.status, 0, calibrate.stderr)
        let json = try CommandRunner.run(["counts", "show", counts, "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        let layers = object["layers"] as! [[String: Any]]
        var deadTotal = 0
        var summary: [String] = []
        for layer in layers {
            let experts = layer["experts"] as! [[String: Any]]
            XCTAssertEqual(experts.count, 8)
            XCTAssertEqual(experts.map { $0["hard"] as! Double }.reduce(0, +), 6, "3 tokens × top-2")
            let dead = experts.filter { ($0["hard"] as! Double) == 0 }.map { $0["expert"] as! Int }
            XCTAssertEqual(layer["dead"] as! [Int], dead)
            XCTAssertGreaterThanOrEqual(dead.count, 2)
            deadTotal += dead.count
            summary.append("layer \(layer["layer"] as! Int): \(dead.count)")
        }
        XCTAssertEqual(object["dead_experts"] as? Int, deadTotal)
        let text = try CommandRunner.run(["counts", "show", counts, "--experts"])
        XCTAssertTrue(text.stdout.contains("\ndead experts (never picked): \(deadTotal) (\(summary.joined(separator: ", ")))\n"), text.stdout)
        let perExpert = text.stdout.split(separator: "\n").filter { $0.hasPrefix("layer ") && $0.contains("%)  ") }
        XCTAssertEqual(perExpert.count, 2, text.stdout)
        XCTAssertTrue(perExpert.allSatisfy { $0.components(separatedBy: "%)").count - 1 == 8 }, text.stdout)
    }
}
