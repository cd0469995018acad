import Foundation
import XCTest

/// kv_lora_rank and q_lora_rank size the latent-attention projections of every DeepSeek-style family (deepseek_v2/v3,
/// kimi_k25, mistral4 and its mistral3 wrapper, deepseek_v32): unbounded, a hostile value made the shape check's
/// `kv_lora_rank + qk_rope_head_dim` trap. The configs are fixtures rewritten into a scratch folder here.
final class LatentRankBoundsTests: XCTestCase {
    private var scratch = ""

    override func setUpWithError() throws {
        scratch = try Fixtures.scratch()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: scratch)
    }

    /// Fixture model `name` in the scratch folder, its config's (or text_config's) `key` set to `value`.
    private func model(_ name: String, _ key: String, _ value: Int) throws -> String {
        let folder = scratch + "/" + name + "-" + key
        try FileManager.default.copyItem(atPath: Fixtures.model(name), toPath: folder)
        var config = try Fixtures.json(folder + "/config.json")
        if var text = config["text_config"] as? [String: Any] {
            text[key] = value
            config["text_config"] = text
        } else {
            config[key] = value
        }
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: folder + "/config.json"))
        return folder
    }

    func testHugeLatentRanksAreRefusedNotOverflowed() throws {
        for name in ["kimi_k25", "mistral4", "mistral3", "deepseek_v3"] {
            for key in ["kv_lora_rank", "q_lora_rank"] {
                let folder = try model(name, key, Int.max)
                let r = try CommandRunner.run(["inspect", folder])
                XCTAssertEqual(r.status, 65, "\(name) \(key): \(r.stderr)")
                XCTAssertEqual(r.stderr, "moe-slim: error: \(folder)/config.json: \(key) is \(Int.max), outside 0...16777216\n", name)
            }
        }
    }
}
