import Foundation
import XCTest

/// `--criterion aimer` on expert weights a hostile checkpoint shapes to hold nothing: one clear error, never a trap.
/// The models are fixtures rewritten into a scratch folder here.
final class AimerHostileTests: XCTestCase {
    private var scratch = ""

    override func setUpWithError() throws {
        scratch = try Fixtures.scratch()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: scratch)
    }

    /// Copies fixture model `name` into the scratch folder with the tensors `change` returns a new shape for
    /// emptied to that shape (which holds no elements).
    private func emptied(_ name: String, _ change: (String) -> [Int]?) throws -> String {
        try rewritten(Fixtures.model(name), as: name) { name, _ in change(name).map { ($0, []) } }
    }

    /// Copies the model folder `source` into the scratch folder as `as`, its tensors for which `change` returns
    /// a shape and bytes replaced by them.
    private func rewritten(_ source: String, as copy: String, _ change: (String, [UInt8]) -> ([Int], [UInt8])?) throws -> String {
        let folder = scratch + "/" + copy
        try FileManager.default.copyItem(atPath: source, toPath: folder)
        let path = folder + "/model.safetensors"
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let length = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as! [String: Any]
        var entries: [String: Any] = [:], data: [UInt8] = []
        for name in header.keys.sorted() where name != "__metadata__" {
            var info = header[name] as! [String: Any]
            let offsets = info["data_offsets"] as! [Int]
            var tensor = Array(bytes[(8 + length + offsets[0])..<(8 + length + offsets[1])])
            if let (shape, replacement) = change(name, tensor) {
                info["shape"] = shape
                tensor = replacement
            }
            info["data_offsets"] = [data.count, data.count + tensor.count]
            entries[name] = info
            data += tensor
        }
        var json = [UInt8](try JSONSerialization.data(withJSONObject: entries, options: [.sortedKeys]))
        json += [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8)
        let prefix = (0..<8).map { UInt8(truncatingIfNeeded: json.count >> (8 * $0)) }
        try Data(prefix + json + data).write(to: URL(fileURLWithPath: path))
        return folder
    }

    /// gemma4_text's fused experts [E, 0, H] and [E, H, 0] pass the shape checks under a config that states no
    /// moe_intermediate_size (the widths are then read from the tensors), and their bytes have no address: AIMER
    /// trapped unwrapping it.
    func testEmptyExpertWeightsAreRefusedNotTrapped() throws {
        let model = try emptied("gemma4_text") { name in
            if name.hasSuffix("experts.gate_up_proj") { return [4, 0, 16] }
            if name.hasSuffix("experts.down_proj") { return [4, 16, 0] }
            return nil
        }
        var config = try Fixtures.json(model + "/config.json")
        config["moe_intermediate_size"] = nil
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: model + "/config.json"))
        let r = try CommandRunner.run(["prune", model, scratch + "/out", "--criterion", "aimer", "--keep", "2"])
        XCTAssertEqual(r.status, 65, r.stderr)
        XCTAssertEqual(r.stderr, "moe-slim: error: \(model): layer 0 expert 0: its weight matrices hold no values to score (a dimension is 0)\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/out"))
    }

    /// quantization_config.weight_block_size [Int.max, Int.max] is one block per matrix, which the shape check
    /// (BlockScales) accepts with [1, 1] scales; the FP8 decoder rounded the block count up by adding, and trapped.
    func testHugeFP8BlockSizeIsReadAsOneBlock() throws {
        let model = try rewritten(FixturePaths.fixture("quantized/deepseek_v3-fp8"), as: "fp8-huge-blocks") { name, bytes in
            name.hasSuffix("_scale_inv") ? ([1, 1], Array(bytes.prefix(4))) : nil
        }
        var config = try Fixtures.json(model + "/config.json")
        var quantization = config["quantization_config"] as! [String: Any]
        quantization["weight_block_size"] = [Int.max, Int.max]
        config["quantization_config"] = quantization
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: model + "/config.json"))
        let r = try CommandRunner.run(["prune", model, scratch + "/out", "--criterion", "aimer", "--keep", "4", "--dry-run"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("layer 1: 4/8"), r.stdout)
    }

    /// weight_block_size null is transformers' per-tensor FP8: one scale per matrix, read as one block of the
    /// matrix's size (the decoder used 128×128 and refused it), so the plan is that of one huge block.
    func testPerTensorFP8IsOneBlock() throws {
        var plans: [String] = []
        for (label, blockSize, scaleShape) in [("per-tensor", nil, [1]), ("one-block", [Int.max, Int.max], [1, 1])] as [(String, [Int]?, [Int])] {
            let model = try rewritten(FixturePaths.fixture("quantized/deepseek_v3-fp8"), as: "fp8-\(label)") { name, bytes in
                name.hasSuffix("_scale_inv") ? (scaleShape, Array(bytes.prefix(4))) : nil
            }
            var config = try Fixtures.json(model + "/config.json")
            var quantization = config["quantization_config"] as! [String: Any]
            quantization["weight_block_size"] = blockSize.map { $0 as Any } ?? NSNull()
            config["quantization_config"] = quantization
            try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: model + "/config.json"))
            let r = try CommandRunner.run(["prune", model, scratch + "/out-\(label)", "--criterion", "aimer", "--keep", "4", "--dry-run"])
            XCTAssertEqual(r.status, 0, r.stderr)
            plans.append(r.stdout.split(separator: "\n").filter { $0.contains("layer") && $0.contains("/8") }.joined(separator: "\n"))
        }
        XCTAssertFalse(plans[0].isEmpty)
        XCTAssertEqual(plans[0], plans[1])
    }

    /// A weight_block_size with an entry that is not an integer is refused, not read as the integers it has.
    func testNonIntegerBlockSizeIsRefused() throws {
        let model = try rewritten(FixturePaths.fixture("quantized/deepseek_v3-fp8"), as: "fp8-bad-block") { _, _ in nil }
        var config = try Fixtures.json(model + "/config.json")
        var quantization = config["quantization_config"] as! [String: Any]
        quantization["weight_block_size"] = [4, "x", 12]
        config["quantization_config"] = quantization
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: model + "/config.json"))
        let r = try CommandRunner.run(["verify", model])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("weight_block_size is [4,\"x\",12], not two positive block sizes") || r.stdout.contains("not two positive block sizes"), r.stderr + r.stdout)
    }
}
