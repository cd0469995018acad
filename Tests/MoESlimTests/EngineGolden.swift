import Foundation
@testable import MoESlimSlimming

/// fixtures/engine/<name>/golden.json, written by fixtures/gen_engine.py from transformers' own router outputs.
struct EngineGolden: Decodable {
    struct Layer: Decodable {
        var layer: Int
        var logits: [[Float]]
        var indices: [[Int]]
        var weights: [[Float]]
        var expertNorms: [[Float]]

        enum CodingKeys: String, CodingKey {
            case layer, logits, indices, weights
            case expertNorms = "expert_norms"
        }
    }

    struct Sequence: Decodable {
        var inputIds: [Int32]
        var layers: [Layer]
        var hidden: [[Float]]

        enum CodingKeys: String, CodingKey {
            case layers, hidden
            case inputIds = "input_ids"
        }
    }

    var modelType: String
    var dtype: String
    var sequences: [Sequence]
    var counts: [ExpertCounts.Layer]

    enum CodingKeys: String, CodingKey {
        case dtype, sequences, counts
        case modelType = "model_type"
    }

    static func folder(_ name: String) -> String { Fixtures.root.appendingPathComponent("engine/\(name)").path }

    static func load(_ name: String) throws -> EngineGolden {
        let data = try Data(contentsOf: URL(fileURLWithPath: folder(name) + "/golden.json"))
        return try JSONDecoder().decode(EngineGolden.self, from: data)
    }
}
