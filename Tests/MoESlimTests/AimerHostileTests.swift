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
        let folder = scratch + "/" + name
        try FileManager.default.copyItem(atPath: Fixtures.model(name), toPath: folder)
        let path = folder + "/model.safetensors"
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let length = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as! [String: Any]
        var entries: [String: Any] = [:], data: [UInt8] = []
        for name in header.keys.sorted() where name != "__metadata__" {
            var info = header[name] as! [String: Any]
            let offsets = info["data_offsets"] as! [Int]
            var tensor = Array(bytes[(8 + length + offsets[0])..<(8 + length + offsets[1])])
            if let shape = change(name) {
                info["shape"] = shape
                tensor = []
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

    /// gemma4_text's fused experts [E, 0, H] and [E, H, 0] pass the shape checks (it has no forward pass to hold
    /// them to the config), and their bytes have no address: AIMER trapped unwrapping it.
    func testEmptyExpertWeightsAreRefusedNotTrapped() throws {
        let model = try emptied("gemma4_text") { name in
            if name.hasSuffix("experts.gate_up_proj") { return [4, 0, 16] }
            if name.hasSuffix("experts.down_proj") { return [4, 16, 0] }
            return nil
        }
        let r = try CommandRunner.run(["prune", model, scratch + "/out", "--criterion", "aimer", "--keep", "2"])
        XCTAssertEqual(r.status, 65, r.stderr)
        XCTAssertEqual(r.stderr, "moe-slim: error: \(model): layer 0 expert 0: its weight matrices hold no values to score (a dimension is 0)\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/out"))
    }
}
