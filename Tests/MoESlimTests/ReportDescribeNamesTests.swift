import XCTest
@testable import MoESlimFormats
@testable import MoESlimFamilies
@testable import MoESlimSlimming

/// describe reads expert tensor names as bytes: odd names must give the same refusals, never a trap, and the
/// outline report and inspect use must agree with the full description.
final class ReportDescribeNamesTests: XCTestCase {
    /// A two-expert Mixtral layer with the given expert tensor names, F32 of the shapes the config implies
    /// (w2 [hidden 2, intermediate 1], the others [1, 2]), so that only the names are odd.
    private func model(experts: [String]) throws -> String {
        let dir = try Fixtures.scratch()
        let names = ["model.embed_tokens.weight", "lm_head.weight", "model.layers.0.block_sparse_moe.gate.weight"]
            + experts.map { "model.layers.0.block_sparse_moe.experts." + $0 }
        let shapes = [[4, 2], [4, 2], [2, 2]] + experts.map { $0.hasSuffix("w2.weight") ? [2, 1] : [1, 2] }
        let tensors = zip(names, shapes).map { OutputTensor(name: $0, dtype: .F32, shape: $1, source: .bytes([])) }
        let header = SafeTensorsStreamWriter.header(for: tensors, metadata: [])
        FileManager.default.createFile(atPath: dir + "/model.safetensors", contents: Data(header + [UInt8](repeating: 0, count: tensors.reduce(0) { $0 + $1.byteCount })))
        try #"{"model_type": "mixtral", "num_hidden_layers": 1, "hidden_size": 2, "intermediate_size": 1, "vocab_size": 4, "num_attention_heads": 1, "num_key_value_heads": 1, "num_local_experts": 2, "num_experts_per_tok": 1}"#
            .write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        return dir
    }

    private func problem(_ experts: [String]) throws -> String? {
        let dir = try model(experts: experts)
        do {
            _ = try ModelFamilies.describe(Checkpoint(path: dir))
            return nil
        } catch {
            return error.message
        }
    }

    func testFullDescriptionNamesWhatTheOutlineHoldsInByteOrder() throws {
        let checkpoint = try Checkpoint(path: try model(experts: ["1.w2.weight", "1.w1.weight", "0.w2.weight", "0.w1.weight"]))
        let full = try ModelFamilies.describe(checkpoint)
        let outline = try ModelFamilies.outline(checkpoint)
        guard case .separate(let marker, let perExpert) = full.moeLayers[0].experts else { return XCTFail("not per-expert") }
        XCTAssertEqual(marker, "model.layers.0.block_sparse_moe.experts.")
        XCTAssertEqual(perExpert, [[marker + "0.w1.weight", marker + "0.w2.weight"], [marker + "1.w1.weight", marker + "1.w2.weight"]])
        XCTAssertEqual(outline.experts[0].of(1).map { checkpoint.names[$0] }, perExpert[1])
        XCTAssertEqual(try SizeReport(checkpoint, context: 8).rows.first { $0.component == .moeFeedForward }?.params, 8)
    }

    /// The first trapped before (an expert number with nothing after it); the others are refused with
    /// the messages they always had.
    func testOddExpertNamesAreRefused() throws {
        XCTAssertEqual(try problem(["0.w1.weight", "1"]), #"MoE layer 0: expert 1 has tensors [""], expert 0 has ["w1.weight"]"#)
        XCTAssertEqual(try problem(["0.w1.weight", "01.w1.weight"]), #"MoE layer 0: expert 1 has tensors [".w1.weight"], expert 0 has ["w1.weight"]"#)
        XCTAssertEqual(try problem(["0.w1.weight", "2.w1.weight"]), "MoE layer 0: expert 2 is out of range (config: 2 experts)")
        XCTAssertEqual(try problem(["0.w1.weight", "1.w1.weight", "1.w3.weight"]), #"MoE layer 0: expert 1 has tensors ["w1.weight", "w3.weight"], expert 0 has ["w1.weight"]"#)
        XCTAssertEqual(try problem(["1.w1.weight"]), #"MoE layer 0: expert 1 has tensors ["w1.weight"], expert 0 has []"#)
        XCTAssertEqual(try problem(["0.w1.weight", "0.w3.weight", "1.w1.weight"]), "MoE layer 0: expert 1 has tensors [\"w1.weight\"], expert 0 has [\"w1.weight\", \"w3.weight\"]")
        XCTAssertNil(try problem(["0.w1.weight", "1.w1.weight"]))
    }
}
