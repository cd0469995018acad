import Foundation
import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimSlimming

/// Adapters PEFT would merge wrongly or silently ignore are refused with .invalidAdapter, and nothing is written.
final class LoRAErrorTests: XCTestCase {
    private let base = LoRAFixtures.base("mixtral-f32")

    func testModuleOutsideTargetModulesIsRefused() throws {
        let adapter = try copy("attention") { config in config.set("target_modules", .array([.string("q_proj")])) }
        try expectRefusal(adapter, mentioning: "not matched by target_modules")
    }

    func testRankDisagreeingWithConfigIsRefused() throws {
        let adapter = try copy("attention") { config in config.set("r", .int(8)) }
        try expectRefusal(adapter, mentioning: "rank 8")
    }

    func testTargetParameterMissingFromTheCheckpointIsRefused() throws {
        let adapter = try copy("experts-router") { config in
            config.set("target_parameters", .array([.string("mlp.experts.gate_up_proj_typo")]))
        }
        try expectRefusal(adapter, mentioning: "target_parameters selects 'model.layers.0.mlp.experts.gate_up_proj_typo', which the checkpoint lacks")
    }

    func testOtherPeftTypeIsRefused() throws {
        let adapter = try copy("attention") { config in config.set("peft_type", .string("IA3")) }
        try expectRefusal(adapter, mentioning: "IA3")
    }

    func testPiSSAWithoutConversionIsRefused() throws {
        let adapter = try copy("attention") { config in config.set("init_lora_weights", .string("pissa")) }
        try expectRefusal(adapter, mentioning: "convert")
    }

    func testDoRAConfigWithoutMagnitudeIsRefused() throws {
        let adapter = try copy("attention") { config in config.set("use_dora", .bool(true)) }
        try expectRefusal(adapter, mentioning: "lora_magnitude_vector")
    }

    func testPickleOnlyAdapterIsRefusedWithConversionHint() throws {
        let adapter = try copy("attention") { _ in }
        try FileManager.default.moveItem(atPath: adapter + "/adapter_model.safetensors", toPath: adapter + "/adapter_model.bin")
        try expectRefusal(adapter, mentioning: "save_file")
    }

    func testUnknownTensorIsRefused() throws {
        let adapter = try copy("attention") { _ in }
        try LoRATensorFile.write([("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", [4, 16], 0.5),
                                  ("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", [16, 4], 0.5),
                                  ("base_model.model.model.layers.0.self_attn.q_proj.extra.weight", [16], 1)],
                                 to: adapter + "/adapter_model.safetensors")
        try expectRefusal(adapter, mentioning: "neither in modules_to_save")
    }

    func testAdapterThatChangesNothingIsRefused() throws {
        let adapter = try copy("attention") { config in config.set("target_modules", .array([.string("q_proj")])) }
        try LoRATensorFile.write([("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", [4, 16], 0.5),
                                  ("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", [16, 4], 0)],
                                 to: adapter + "/adapter_model.safetensors")
        try expectRefusal(adapter, mentioning: "changes nothing")
    }

    func testShapeMismatchIsRefused() throws {
        let adapter = try copy("attention") { config in config.set("target_modules", .array([.string("q_proj")])) }
        try LoRATensorFile.write([("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", [4, 12], 0.5),
                                  ("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight", [16, 4], 0.5)],
                                 to: adapter + "/adapter_model.safetensors")
        try expectRefusal(adapter, mentioning: "factors give")
    }

    /// Adapters on disjoint modules each give exactly their own golden tensors.
    func testAdaptersOnDisjointModulesKeepTheirOwnResults() throws {
        let checkpoint = try Checkpoint(path: base)
        let both = try LoRAFixtures.merge(base: checkpoint, adapters: [LoRAFixtures.folder("attention") + "/adapter", LoRAFixtures.folder("experts-router") + "/adapter"])
        let attention = try Checkpoint(path: LoRAFixtures.folder("attention") + "/expected.safetensors")
        let experts = try Checkpoint(path: LoRAFixtures.folder("experts-router") + "/expected.safetensors")
        for name in attention.names + experts.names {
            let want = attention.bytes(of: name) ?? experts.bytes(of: name)!
            XCTAssertEqual(Array(both.bytes(of: name)!), Array(want), name)
        }
    }

    private func expectRefusal(_ adapter: String, mentioning text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let checkpoint = try Checkpoint(path: base)
        let out = LoRAFixtures.temporaryFolder() + "/merged"
        do {
            let plan = try MergePlan(checkpoint: checkpoint, adapters: [MergePlan.AdapterSource(path: adapter)])
            try LoraMergeWriter(base: checkpoint, plan: plan, destination: out, dtype: nil, rounding: .once, force: false).write()
            XCTFail("merged an adapter that should be refused", file: file, line: line)
        } catch {
            XCTAssertEqual(error.code, .invalidAdapter, "\(error)", file: file, line: line)
            XCTAssertTrue(error.message.contains(text), "\(error.message)", file: file, line: line)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), file: file, line: line)
    }

    /// A fixture adapter copied to a temporary folder with its adapter_config.json edited.
    private func copy(_ name: String, editing edit: (inout JSONValue) -> Void) throws -> String {
        let source = LoRAFixtures.folder(name) + "/adapter"
        let target = LoRAFixtures.temporaryFolder() + "/adapter"
        try FileManager.default.copyItem(atPath: source, toPath: target)
        var config = try JSONParser.parse(Array(Data(contentsOf: URL(fileURLWithPath: target + "/adapter_config.json"))))
        edit(&config)
        try Data(config.serialized().utf8).write(to: URL(fileURLWithPath: target + "/adapter_config.json"))
        return target
    }
}

/// Writes small F32 safetensors files filled with one value, for adapters the fixtures do not cover.
enum LoRATensorFile {
    static func write(_ tensors: [(name: String, shape: [Int], value: Float)], to path: String) throws {
        var header: [String] = []
        var data: [UInt8] = []
        for t in tensors {
            let count = t.shape.reduce(1, *)
            header.append("\"\(t.name)\":{\"dtype\":\"F32\",\"shape\":\(t.shape),\"data_offsets\":[\(data.count),\(data.count + count * 4)]}")
            for _ in 0..<count { withUnsafeBytes(of: t.value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        }
        var json = Array("{\(header.joined(separator: ","))}".utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        var bytes = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) }
        bytes += json + data
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
}
