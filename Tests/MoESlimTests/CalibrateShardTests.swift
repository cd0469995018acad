import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimFamilies
@testable import MoESlimEngine
@testable import MoESlimSlimming
@testable import moe_slim

/// `calibrate` end to end on the fixture models: the command's counts file against transformers' counts, and
/// three shard runs merged with `counts merge` against one run.
final class CalibrateShardTests: XCTestCase {
    /// The golden sequences as pre-tokenized JSON Lines, one record per sequence.
    private func dataFile(_ golden: EngineGolden, in folder: String) throws -> String {
        let path = folder + "/data.jsonl"
        let lines = golden.sequences.map { "{\"input_ids\": [\($0.inputIds.map(String.init).joined(separator: ", "))]}" }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func calibrate(_ model: String, _ data: String, _ output: String, _ extra: [String] = []) throws -> ExpertCounts {
        let command = try CalibrateCommand.parse([model, "--data", data, "-o", output] + extra)
        try command.run()
        return try ExpertCounts.load(output)
    }

    func testCommandMatchesTransformersCounts() throws {
        let golden = try EngineGolden.load("qwen2_moe")
        let folder = try Fixtures.scratch()
        let counts = try calibrate(EngineGolden.folder("qwen2_moe"), try dataFile(golden, in: folder), folder + "/c.json", ["--heatmap", folder + "/h.svg"])
        XCTAssertEqual(counts.tokens, golden.sequences.reduce(0) { $0 + $1.inputIds.count })
        XCTAssertEqual(counts.sequences, golden.sequences.count)
        for (ours, expected) in zip(counts.layers, golden.counts) {
            XCTAssertEqual(ours.hard, expected.hard)
            for (a, b) in zip(ours.soft, expected.soft) { XCTAssertEqual(a, b, accuracy: 1e-4 * max(b, 1e-6)) }
        }
        let svg = try String(contentsOfFile: folder + "/h.svg", encoding: .utf8)
        XCTAssertTrue(svg.hasPrefix("<svg") && svg.contains("<title>L2 E7: "))
    }

    /// Every output value is summed by one core in a fixed order, so the core count changes nothing.
    func testThreadCountDoesNotChangeCounts() throws {
        let golden = try EngineGolden.load("mixtral-bf16")
        let folder = try Fixtures.scratch()
        let data = try dataFile(golden, in: folder)
        let all = Parallel.workers
        defer { Parallel.useThreads(all) }
        let one = try calibrate(EngineGolden.folder("mixtral-bf16"), data, folder + "/one.json", ["--threads", "1"])
        let three = try calibrate(EngineGolden.folder("mixtral-bf16"), data, folder + "/three.json", ["--threads", "3"])
        XCTAssertEqual(one.layers, three.layers)
        XCTAssertThrowsError(try CalibrateCommand.parse(["m", "--data", data, "-o", "x", "--threads", "0"]))
    }

    /// On every kernel path, for an f32 model and for a bf16 one under both compute modes: a token's arithmetic
    /// must not depend on which other sequences share its chunk.
    func testThreeShardsMergeToOneRun() throws {
        let runs = [("deepseek_v3", "f32"), ("mixtral-bf16", "bf16"), ("mixtral-bf16", "f32")]
        try KernelPaths.each { path in
            for (name, compute) in runs {
                try checkShardsMergeToOneRun(name, ["--compute", compute], "\(path), \(name), --compute \(compute)")
            }
        }
    }

    private func checkShardsMergeToOneRun(_ name: String, _ options: [String], _ label: String) throws {
        let golden = try EngineGolden.load(name)
        let folder = try Fixtures.scratch()
        let data = try dataFile(golden, in: folder)
        let model = EngineGolden.folder(name)
        let whole = try calibrate(model, data, folder + "/all.json", options)
        var shards: [String] = []
        for i in 0..<3 {
            shards.append(folder + "/shard\(i).json")
            _ = try calibrate(model, data, shards[i], options + ["--shard", "\(i)/3"])
        }
        let merge = try CountsMergeCommand.parse(shards + ["-o", folder + "/merged.json"])
        try merge.run()
        let merged = try ExpertCounts.load(folder + "/merged.json")
        XCTAssertEqual(merged.tokens, whole.tokens, label)
        XCTAssertEqual(merged.sequences, whole.sequences, label)
        XCTAssertEqual(merged.fingerprint, whole.fingerprint, label)
        XCTAssertEqual(merged.layers, whole.layers, "merged shard counts must equal one run bit for bit: \(label)")
        XCTAssertNotNil(merged.layers.first?.exact, label)
        XCTAssertTrue(merged.layers.allSatisfy { !$0.sums[.ean].isEmpty && $0.sums[.maxAbsOutput].contains { $0 > 0 } },
                      "ean and max_abs_output are written and merged: \(label)")
        XCTAssertTrue(merged.layers.allSatisfy { $0.sums[.outputSketch].count == $0.experts * OutputSketch.width && $0.sums[.outputSketch].contains { $0 < 0 } },
                      "output_sketch is written, signed, and merged bit for bit with the rest: \(label)")
    }

    /// Per-group counts are the same sums over each group's sequences, and the groups add up to the total.
    func testGroupByCountsEachGroupSeparately() throws {
        let golden = try EngineGolden.load("mixtral")
        let folder = try Fixtures.scratch()
        let path = folder + "/grouped.jsonl"
        let lines = golden.sequences.enumerated().map { i, s in
            "{\"task\": \"\(i == 1 ? "b" : "a")\", \"input_ids\": [\(s.inputIds.map(String.init).joined(separator: ","))]}"
        }
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let counts = try calibrate(EngineGolden.folder("mixtral"), path, folder + "/c.json", ["--group-by", "task"])
        let groups = try XCTUnwrap(counts.groups)
        XCTAssertEqual(Set(groups.keys), ["a", "b"])
        XCTAssertEqual(groups["b"]?.first?.tokens, golden.sequences[1].inputIds.count)
        for (i, layer) in counts.layers.enumerated() {
            let a = try XCTUnwrap(groups["a"])[i], b = try XCTUnwrap(groups["b"])[i]
            XCTAssertEqual(zip(a.hard, b.hard).map { $0 + $1 }, layer.hard)
            XCTAssertEqual(a.tokens + b.tokens, layer.tokens)
        }
    }

    func testMergeRefusesCountsOfAnotherModel() throws {
        let folder = try Fixtures.scratch()
        let a = try calibrate(EngineGolden.folder("mixtral"), try dataFile(EngineGolden.load("mixtral"), in: folder), folder + "/a.json")
        let b = try calibrate(EngineGolden.folder("olmoe"), try dataFile(EngineGolden.load("olmoe"), in: folder), folder + "/b.json")
        XCTAssertThrowsError(try ExpertCounts.merged([(a, "a.json"), (b, "b.json")])) { error in
            XCTAssertEqual((error as? MoESlimError)?.code, .invalidCounts)
        }
    }

    /// A family the engine cannot run exactly is refused by name, never run approximately.
    func testUnsupportedFamilyIsRefused() throws {
        let checkpoint = try Checkpoint(path: EngineGolden.folder("mixtral"))
        var model = try ModelFamilies.describe(checkpoint)
        model.modelType = "jamba"
        XCTAssertThrowsError(try EngineFamilies.spec(for: checkpoint, model: model)) { error in
            XCTAssertEqual((error as? MoESlimError)?.code, .unsupportedModel)
            XCTAssertTrue("\(error)".contains("jamba"), "\(error)")
        }
    }
}
