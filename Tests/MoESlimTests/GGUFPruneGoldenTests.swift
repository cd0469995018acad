import Foundation
import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimFamilies
@testable import MoESlimSlimming

/// moe-slim's pruned GGUF against the GGUF gguf-py wrote for the independently pruned model
/// (fixtures/gen_gguf.py): byte for byte, for tiny Mixtral and Qwen3-MoE at F32, BF16, Q8_0 and Q4_K.
final class GGUFPruneGoldenTests: XCTestCase {
    static let families = ["mixtral", "qwen3moe"]
    static let types = ["f32", "bf16", "q8_0", "q4_k"]

    private var folder = ""

    override func setUp() {
        folder = NSTemporaryDirectory() + "gguf-test-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: folder)
    }

    static func model(_ family: String, _ type: String) -> String { FixturePaths.fixture("gguf/models/\(family)-\(type).gguf") }
    static func expected(_ family: String, _ type: String) -> String { FixturePaths.fixture("gguf/expected/\(family)-\(type).gguf") }

    private func prune(_ input: String, plan: PruningPlan, to output: String) throws {
        let gguf = try GGUFModel(path: input)
        let model = try GGUFArchitectures.describe(gguf)
        try plan.validate(against: model, source: "test")
        try GGUFPruneWriter(input: gguf, model: model, plan: plan).write(to: output, force: false)
    }

    private func assertSameBytes(_ a: String, _ b: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let x = try Data(contentsOf: URL(fileURLWithPath: a)), y = try Data(contentsOf: URL(fileURLWithPath: b))
        XCTAssertEqual(x.count, y.count, "\(a) vs \(b): sizes", file: file, line: line)
        XCTAssertTrue(x == y, "\(a) differs from \(b)", file: file, line: line)
    }

    func testPlanGivesTheIndependentlyPrunedFileByteForByte() throws {
        let plan = try PruningPlan.load(FixturePaths.fixture("gguf/plan.json"))
        for family in Self.families {
            for type in Self.types {
                let out = "\(folder)/\(family)-\(type).gguf"
                try prune(Self.model(family, type), plan: plan, to: out)
                try assertSameBytes(out, Self.expected(family, type))
            }
        }
    }

    func testTensorsAndMetadataOfTheGoldenMatchTheInputExceptExpertsAndProvenance() throws {
        for family in Self.families {
            let input = try GGUFModel(path: Self.model(family, "q8_0"))
            let pruned = try GGUFModel(path: Self.expected(family, "q8_0"))
            let arch = input.architecture!
            XCTAssertEqual(pruned.metadata.map(\.key), input.metadata.map(\.key) + ["moe_slim.plan"])
            for kv in input.metadata where kv.key != "\(arch).expert_count" {
                XCTAssertEqual(pruned.value(kv.key), kv.value, kv.key)
            }
            XCTAssertEqual(pruned.archInt("expert_count"), 2)
            XCTAssertEqual(pruned.value("moe_slim.plan")?.text, #"{"layers":{"0":[1,3],"1":[0,2]}}"#)
            let experts = try GGUFArchitectures.describe(pruned).moeLayers.map(\.numExperts)
            XCTAssertEqual(experts, [2, 2])
        }
    }

    func testImatrixAndSafetensorsCountsChooseTheSameExperts() throws {
        for family in Self.families {
            let out = "\(folder)/\(family)-imatrix.gguf"
            let r = try CommandRunner.run(["prune", Self.model(family, "q4_k"), out, "--counts", FixturePaths.fixture("gguf/\(family)-imatrix.gguf"), "--keep", "2"])
            XCTAssertEqual(r.status, 0, r.stderr)
            try assertSameBytes(out, Self.expected(family, "q4_k"))
            let fromCounts = "\(folder)/\(family)-counts.gguf"
            let c = try CommandRunner.run(["prune", Self.model(family, "q8_0"), fromCounts, "--counts", FixturePaths.fixture("gguf/\(family)-counts.json"), "--keep", "2"])
            XCTAssertEqual(c.status, 0, c.stderr)
            try assertSameBytes(fromCounts, Self.expected(family, "q8_0"))
        }
    }

    func testImatrixCountsAreTheHardCounts() throws {
        let gguf = try GGUFModel(path: Self.model("qwen3moe", "q8_0"))
        let counts = try ImatrixCounts.load(FixturePaths.fixture("gguf/qwen3moe-imatrix.gguf"), for: GGUFArchitectures.describe(gguf))
        XCTAssertEqual(counts.layers.map(\.hard), [[3, 12, 5, 12], [10, 2, 14, 6]])
        XCTAssertEqual(counts.layers.map(\.tokens), [16, 16])
        let show = try CommandRunner.run(["counts", "show", FixturePaths.fixture("gguf/qwen3moe-imatrix.gguf")])
        XCTAssertEqual(show.status, 0, show.stderr)
        XCTAssertTrue(show.stdout.contains("    1        4       16    0.000        3  2 (43.8%)           1 (6.2%)"), show.stdout)
    }

    func testTopKRewritesExpertUsedCountInItsOwnType() throws {
        let out = "\(folder)/top1.gguf"
        try prune(Self.model("mixtral", "bf16"), plan: PruningPlan(kept: [0: [0, 1], 1: [2, 3]], topK: 1), to: out)
        let pruned = try GGUFModel(path: out)
        XCTAssertEqual(pruned.value("llama.expert_used_count"), .integer(.uint32, 1))
        XCTAssertEqual(pruned.value("llama.expert_count"), .integer(.uint32, 2))
        XCTAssertEqual(pruned.value("moe_slim.plan")?.text, #"{"layers":{"0":[0,1],"1":[2,3]},"top_k":1}"#)
    }

    func testPruningAPrunedFileReplacesItsProvenance() throws {
        let out = "\(folder)/again.gguf"
        try prune(Self.expected("qwen3moe", "f32"), plan: PruningPlan(kept: [0: [0, 1], 1: [0, 1]]), to: out)
        let pruned = try GGUFModel(path: out)
        XCTAssertEqual(pruned.metadata.filter { $0.key == "moe_slim.plan" }.count, 1)
        XCTAssertEqual(pruned.value("moe_slim.plan")?.text, #"{"layers":{"0":[0,1],"1":[0,1]}}"#)
    }

    func testUnequalExpertCountsPerLayerAreRefused() throws {
        let path = Self.model("mixtral", "f32")
        let gguf = try GGUFModel(path: path)
        XCTAssertThrowsError(try GGUFPruneWriter(input: gguf, model: GGUFArchitectures.describe(gguf), plan: PruningPlan(kept: [0: [0, 1]]))) { error in
            XCTAssertEqual("\(error)", "\(path): this plan keeps 2 or 4 experts in different layers, but a GGUF has one llama.expert_count for all layers; use --strategy layer or a plan with the same count in every layer")
        }
    }

    func testOutputsThatWouldHarmAnInputAreRefused() throws {
        let input = "\(folder)/in.gguf"
        try FileManager.default.copyItem(atPath: Self.model("qwen3moe", "q8_0"), toPath: input)
        let plan = FixturePaths.fixture("gguf/plan.json")
        let over = try CommandRunner.run(["prune", input, input, "--plan", plan, "--force"])
        XCTAssertEqual(over.status, 64)
        XCTAssertEqual(over.stderr, "moe-slim: error: \(input): the output would write over or inside the input \(input)\n")
        let existing = "\(folder)/exists.gguf"
        XCTAssertTrue(FileManager.default.createFile(atPath: existing, contents: Data("keep".utf8)))
        let refused = try CommandRunner.run(["prune", input, existing, "--plan", plan])
        XCTAssertEqual(refused.status, 73)
        XCTAssertEqual(try String(contentsOfFile: existing, encoding: .utf8), "keep")
        let split = try CommandRunner.run(["prune", input, "\(folder)/out-00001-of-00002.gguf", "--plan", plan])
        XCTAssertEqual(split.stderr, "moe-slim: error: \(folder)/out-00001-of-00002.gguf: the output is one file; a name ending in -NNNNN-of-NNNNN.gguf would read as a part of a split model\n")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix(".moe-slim-tmp-") }
        XCTAssertEqual(leftovers, [])
    }

    func testInspectReportAndVerifyReadGGUF() throws {
        let path = Self.model("qwen3moe", "q4_k")
        let inspect = try CommandRunner.run(["inspect", path])
        XCTAssertEqual(inspect.status, 0, inspect.stderr)
        XCTAssertTrue(inspect.stdout.contains("  family        qwen3_moe (llama.cpp arch 'qwen3moe', softmax router)\n"), inspect.stdout)
        XCTAssertTrue(inspect.stdout.contains("  Q4_K          101376 bytes\n"), inspect.stdout)
        let report = try SizeReport.of(path, context: 4096)
        let experts = report.rows.first { $0.component == .moeFeedForward }!
        // 2 layers × 3 projections × 4 experts × 256 × 32 elements; gate and up in Q4_K, down in Q8_0.
        XCTAssertEqual(experts.params, 2 * 3 * 4 * 256 * 32)
        XCTAssertEqual(experts.bytes, 2 * 4 * (2 * 32 * 144 + 256 * 34))
        XCTAssertEqual(experts.activeParams, experts.params / 2)
        let verify = try CommandRunner.run(["verify", "--scan", path])
        XCTAssertEqual(verify.status, 0, verify.stderr)
        XCTAssertTrue(verify.stdout.contains("  model: qwen3_moe, 2 MoE layers, up to 4 experts per layer\n"), verify.stdout)
    }

    /// Router weight and bias, exp_probs_b and expert biases lose the dropped experts' slabs, in order; shared
    /// experts and the group keys stay as they were; a plan that unbalances the groups is refused.
    func testRouterBiasesAndGroupsOfADeepSeekLayer() throws {
        let path = FixturePaths.fixture("gguf/valid/grouped-router.gguf")
        let input = try GGUFModel(path: path)
        let model = try GGUFArchitectures.describe(input)
        XCTAssertEqual(model.routing.groups, 2)
        XCTAssertThrowsError(try PruningPlan(kept: [0: [0, 1, 2, 4]]).validate(against: model, source: "plan.json")) { error in
            XCTAssertEqual("\(error)", "plan.json: layer 0 keeps [3, 1] experts per group; group-limited routing (n_group 2) needs the same count in every group")
        }
        let kept = [0, 1, 4, 5]
        let plan = PruningPlan(kept: [0: kept])
        try plan.validate(against: model, source: "plan.json")
        let out = "\(folder)/grouped.gguf"
        try GGUFPruneWriter(input: input, model: model, plan: plan).write(to: out, force: false)
        let written = try GGUFModel(path: out)
        for key in ["deepseek2.expert_group_count", "deepseek2.expert_group_used_count", "deepseek2.expert_used_count"] {
            XCTAssertEqual(written.value(key), input.value(key), key)
        }
        XCTAssertEqual(written.value("deepseek2.expert_count"), .integer(.uint32, 4))
        for (_, before) in input.tensors {
            let after = written.tensor(before.name)!.info
            let old = Array(input.parts[0].bytes(of: before)), new = Array(written.parts[0].bytes(of: after))
            let isExpertAxis = before.name.contains("_exps") || before.name.contains("ffn_gate_inp") || before.name.contains("exp_probs_b")
            if isExpertAxis {
                XCTAssertEqual(after.dims, before.dims.dropLast() + [4], before.name)
                let slab = before.outerSliceBytes
                XCTAssertEqual(new, kept.flatMap { old[($0 * slab)..<(($0 + 1) * slab)] }, before.name)
            } else {
                XCTAssertEqual(after.dims, before.dims, before.name)
                XCTAssertEqual(new, old, before.name)
            }
        }
    }
}
