import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimFamilies
@testable import MoESlimSlimming

/// moe-slim's prune must produce, byte for byte, the tensors fixtures/gen_models.py got by slicing the state
/// dict itself; that script also checked that transformers loads them and reproduces the masked-router logits.
final class PruneGoldenTests: XCTestCase {
    func prune(_ family: String, into out: String, sharding: Sharding = .keepInput) throws -> Checkpoint {
        let input = try Checkpoint(path: Fixtures.model(family))
        let model = try ModelFamilies.describe(input)
        let plan = try PruningPlan.load(Fixtures.model(family) + "/plan.json")
        let transform = try PruneTransform(checkpoint: input, model: model, plan: plan)
        try PruneWriter(input: input, transform: transform, destination: out, sharding: sharding, force: false).write()
        return try Checkpoint(path: out)
    }

    /// Every registered model type, and the storage variants gen_models.py also writes.
    func testEveryFamilyMatchesTheIndependentPrune() {
        forEachGolden(RegisteredFamilies.modelTypes + ["gpt_oss-mxfp4", "mixtral-bf16-sharded"]) { family in
            let out = try Fixtures.scratch() + "/out"
            let got = try prune(family, into: out)
            let expected = try Checkpoint(path: Fixtures.model("\(family)-pruned") + "/model.safetensors")
            assertSameTensors(got, expected, family)
        }
    }

    /// The config is the one gen_models.py loaded the pruned tensors with in transformers (the input's with the
    /// expert count changed), plus the record of the kept experts, which is the plan.
    func testEveryFamilysConfigIsTheOneTransformersLoaded() {
        forEachGolden(RegisteredFamilies.modelTypes) { family in
            let out = try Fixtures.scratch() + "/out"
            _ = try prune(family, into: out)
            var got = try Fixtures.json(out + "/config.json")
            let expected = try Fixtures.json(Fixtures.model("\(family)-pruned") + "/config.json")
            let record = got.removeValue(forKey: "moe_slim") as? [String: Any]
            XCTAssertEqual(Set(got.keys), Set(expected.keys), family)
            for (key, value) in expected {
                XCTAssertEqual(try canonical(got[key]), try canonical(value), "\(family) \(key)")
            }
            let plan = try Fixtures.json(Fixtures.model(family) + "/plan.json")["layers"] as? [String: [Int]]
            XCTAssertEqual(record?["kept_experts"] as? [String: [Int]], plan, family)
        }
    }

    func testShardedInputKeepsItsShardingAndIndex() throws {
        let out = try Fixtures.scratch() + "/out"
        let got = try prune("mixtral-bf16-sharded", into: out)
        let input = try Checkpoint(path: Fixtures.model("mixtral-bf16-sharded"))
        XCTAssertEqual(got.shardNames, input.shardNames)
        let index = try Fixtures.json(out + "/model.safetensors.index.json")
        let total = (index["metadata"] as? [String: Any])?["total_size"] as? Int
        XCTAssertEqual(total, got.totalBytes)
        XCTAssertEqual((index["weight_map"] as? [String: String])?.count, got.tensorCount)
    }

    func testMaxShardSizeSplitsGreedilyWithTransformersNames() throws {
        let out = try Fixtures.scratch() + "/out"
        let got = try prune("mixtral", into: out, sharding: .maxBytes(8_000))
        XCTAssertGreaterThan(got.shardNames.count, 2)
        XCTAssertEqual(got.shardNames.first, "model-00001-of-0000\(got.shardNames.count).safetensors")
        let expected = try Checkpoint(path: Fixtures.model("mixtral-pruned") + "/model.safetensors")
        assertSameTensors(got, expected, "resharded")
    }

    func testConfigChangesOnlyTheExpertCountAndRecordsKeptExperts() throws {
        let out = try Fixtures.scratch() + "/out"
        _ = try prune("mixtral", into: out)
        let before = try Fixtures.json(Fixtures.model("mixtral") + "/config.json")
        let after = try Fixtures.json(out + "/config.json")
        XCTAssertEqual(after["num_local_experts"] as? Int, 3)
        let kept = (after["moe_slim"] as? [String: Any])?["kept_experts"] as? [String: [Int]]
        XCTAssertEqual(kept, ["0": [0, 2, 3], "1": [1, 2, 3]])
        for (key, value) in before where key != "num_local_experts" {
            XCTAssertEqual(try canonical(after[key]), try canonical(value), key)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/generation_config.json"))
    }

    /// A JSON value in one spelling, so that values compare whatever order their keys were written in.
    private func canonical(_ value: Any?) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: [value ?? NSNull()], options: [.sortedKeys]), as: UTF8.self)
    }

    func testExistingOutputIsRefusedAndInputIsNeverOverwritten() throws {
        let out = try Fixtures.scratch() + "/out"
        _ = try prune("mixtral", into: out)
        XCTAssertThrowsError(try prune("mixtral", into: out)) { error in
            XCTAssertEqual((error as? MoESlimError)?.code, .outputExists)
        }
        XCTAssertThrowsError(try prune("mixtral", into: Fixtures.model("mixtral"))) { error in
            XCTAssertEqual((error as? MoESlimError)?.code, .invalidArgument)
        }
    }
}

extension XCTestCase {
    /// The two checkpoints hold the same tensor names, and each the same shape, dtype and bytes.
    func assertSameTensors(_ got: Checkpoint, _ expected: Checkpoint, _ label: String) {
        XCTAssertEqual(Set(got.names), Set(expected.names), label)
        for name in expected.names {
            guard let a = got.info(name), let b = expected.info(name) else { continue }
            XCTAssertEqual(a.shape, b.shape, "\(label) \(name)")
            XCTAssertEqual(a.dtype, b.dtype, "\(label) \(name)")
            XCTAssertTrue(got.bytes(of: name)!.elementsEqual(expected.bytes(of: name)!), "\(label) \(name) bytes differ")
        }
    }
}
