import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimFamilies
@testable import MoESlimEngine

/// Published checkpoints spell RoPE settings the pre-5.0 way (`rope_theta` + `rope_scaling`, sometimes with
/// `type` instead of `rope_type`); the fixtures use transformers 5's `rope_parameters`. Both must give the same
/// frequencies, or real models would be calibrated with the wrong positions.
final class EngineConfigTests: XCTestCase {
    private func rope(_ json: String, dim: Int = 8) throws -> RopeSpec {
        try JSONDecoder().decode(RopeParameters.self, from: Data(json.utf8)).spec(rotaryDim: dim, layout: .halves, maxPositions: 256)
    }

    func testLegacyAndCurrentSpellingsAgree() throws {
        let pairs = [
            (#"{"rope_theta": 500000, "rope_scaling": {"rope_type": "llama3", "factor": 8, "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 16}}"#,
             #"{"rope_parameters": {"rope_type": "llama3", "rope_theta": 500000, "factor": 8, "low_freq_factor": 1, "high_freq_factor": 4, "original_max_position_embeddings": 16}}"#),
            (#"{"rope_theta": 10000, "rope_scaling": {"type": "yarn", "factor": 40, "mscale": 1.0, "mscale_all_dim": 1.0, "original_max_position_embeddings": 32, "beta_fast": 32, "beta_slow": 1}}"#,
             #"{"rope_parameters": {"rope_type": "yarn", "rope_theta": 10000, "factor": 40, "mscale": 1.0, "mscale_all_dim": 1.0, "original_max_position_embeddings": 32, "beta_fast": 32, "beta_slow": 1}}"#),
            (#"{"rope_theta": 1000000, "rope_scaling": null}"#, #"{"rope_parameters": {"rope_type": "default", "rope_theta": 1000000}}"#),
        ]
        for (legacy, current) in pairs {
            let a = try rope(legacy), b = try rope(current)
            XCTAssertEqual(a.inverseFrequencies, b.inverseFrequencies, legacy)
            XCTAssertEqual(a.attentionFactor, b.attentionFactor, legacy)
        }
    }

    func testUnknownRopeTypeIsRefused() {
        XCTAssertThrowsError(try rope(#"{"rope_theta": 10000, "rope_scaling": {"type": "dynamic", "factor": 2}}"#)) { error in
            XCTAssertEqual((error as? MoESlimError)?.code, .unsupportedModel)
        }
    }

    func testMemoryBudgetBelowOneLayerIsRefused() throws {
        let checkpoint = try Checkpoint(path: EngineGolden.folder("mixtral"))
        let model = try ModelFamilies.describe(checkpoint)
        XCTAssertThrowsError(try ChunkPlanner(checkpoint: checkpoint, model: model, budget: 1000)) { error in
            XCTAssertEqual((error as? MoESlimError)?.code, .invalidArgument)
        }
        XCTAssertGreaterThan(try ChunkPlanner(checkpoint: checkpoint, model: model, budget: 1 << 30).chunkTokens, 1000)
    }
}
