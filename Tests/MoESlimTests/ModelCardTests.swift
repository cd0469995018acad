import Foundation
import XCTest

/// prune appends what it did to the model card (README.md), below the original card, and ends with a "wrote"
/// line as calibrate does.
final class ModelCardTests: XCTestCase {
    let tiny = Fixtures.root.appendingPathComponent("tiny-mixtral").path

    func testPrunedCardKeepsTheOriginalAndSaysWhatWasPrunedHowAndFromWhatData() throws {
        let dir = try Fixtures.scratch()
        let input = dir + "/Tiny-8x"
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        for name in ["config.json", "model.safetensors", "tokenizer.json"] {
            try FileManager.default.createSymbolicLink(atPath: input + "/" + name, withDestinationPath: tiny + "/" + name)
        }
        let original = "---\nlicense: apache-2.0\n---\n# Tiny\n\nThe original card."
        try original.write(toFile: input + "/README.md", atomically: true, encoding: .utf8)
        let counts = dir + "/counts.json"
        let calibrate = try CommandRunner.run(["calibrate", input, "--data", tiny + "/calib.txt", "-o", counts])
        XCTAssertEqual(calibrate.status, 0, calibrate.stderr)
        let prune = try CommandRunner.run(["prune", input, dir + "/out", "--counts", counts, "--keep", "6"])
        XCTAssertEqual(prune.status, 0, prune.stderr)
        XCTAssertTrue(prune.stdout.hasSuffix("wrote \(dir)/out: 12 of 16 experts kept in 2 MoE layers; model card note in README.md\n"), prune.stdout)
        let card = try String(contentsOfFile: dir + "/out/README.md", encoding: .utf8)
        let json = try Fixtures.json(counts)
        XCTAssertEqual(card, original + "\n" + """

            ## Pruned with moe-slim

            This checkpoint is `Tiny-8x` with experts removed by moe-slim 0.1.0 (SEER-MoE heavy-hitters pruning, arXiv 2404.05089); it has not been fine-tuned since.

            - Experts kept: 6 of 8 in each of the 2 MoE layers (the same in every layer, so stock transformers loads it).
            - Experts per token (top-k): 2, unchanged.
            - Chosen by: criterion `hard`, strategy `layer`.
            - Calibration data: 444 tokens in 13 sequences of `\(tiny)/calib.txt`, run with --compute bf16; counts file `\(counts)`, fingerprint \(json["fingerprint"] as! String).
            - How it compares with the original on your data: `moe-slim eval ORIGINAL --against THIS --data FILE`.

            """)
        // The input's card is untouched.
        XCTAssertEqual(try String(contentsOfFile: input + "/README.md", encoding: .utf8), original)
    }

    func testAFolderWithoutACardGetsOneWithTheNoteAndAPlanSaysItWasExplicit() throws {
        let dir = try Fixtures.scratch()
        let plan = dir + "/plan.json"
        try "{\"layers\": {\"0\": [0, 1, 2, 3], \"1\": [4, 5, 6, 7]}}".write(toFile: plan, atomically: true, encoding: .utf8)
        let prune = try CommandRunner.run(["prune", tiny, dir + "/out", "--plan", plan])
        XCTAssertEqual(prune.status, 0, prune.stderr)
        let card = try String(contentsOfFile: dir + "/out/README.md", encoding: .utf8)
        XCTAssertTrue(card.hasPrefix("\n## Pruned with moe-slim\n"), card)
        XCTAssertTrue(card.contains("- Experts kept: 4 of 8 in each of the 2 MoE layers"), card)
        XCTAssertTrue(card.contains("- Chosen by: the explicit plan file `\(plan)`.\n"), card)
        XCTAssertFalse(card.contains("Calibration data"), card)
    }
}
