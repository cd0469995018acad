import XCTest
@testable import MoESlimFormats
@testable import MoESlimSlimming

/// A Mixtral-8x7B-shaped checkpoint made of its header and a hole: the report must read only headers and
/// give the published sizes (46.7B total, 12.9B active) and Kaplan's FLOPs by hand.
final class SparseMixtralReportTests: XCTestCase {
    func makeSparseMixtral(in dir: String) throws -> String {
        let (h, inter, vocab, layers, experts, kv) = (4096, 14336, 32000, 32, 8, 1024)
        var shapes: [(String, [Int])] = [("model.embed_tokens.weight", [vocab, h]), ("lm_head.weight", [vocab, h]), ("model.norm.weight", [h])]
        for l in 0..<layers {
            let p = "model.layers.\(l)."
            shapes += [
                (p + "input_layernorm.weight", [h]), (p + "post_attention_layernorm.weight", [h]),
                (p + "self_attn.q_proj.weight", [h, h]), (p + "self_attn.k_proj.weight", [kv, h]),
                (p + "self_attn.v_proj.weight", [kv, h]), (p + "self_attn.o_proj.weight", [h, h]),
                (p + "block_sparse_moe.gate.weight", [experts, h]),
            ]
            for e in 0..<experts {
                let q = p + "block_sparse_moe.experts.\(e)."
                shapes += [(q + "w1.weight", [inter, h]), (q + "w2.weight", [h, inter]), (q + "w3.weight", [inter, h])]
            }
        }
        let tensors = shapes.map { OutputTensor(name: $0.0, dtype: .BF16, shape: $0.1, source: .bytes([])) }
        let header = SafeTensorsStreamWriter.header(for: tensors, metadata: [("format", "pt")])
        let path = dir + "/model.safetensors"
        FileManager.default.createFile(atPath: path, contents: Data(header))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(header.count + tensors.reduce(0) { $0 + $1.byteCount }))
        try handle.close()
        let config = """
            {"model_type": "mixtral", "num_hidden_layers": 32, "hidden_size": 4096, "intermediate_size": 14336,
             "vocab_size": 32000, "num_attention_heads": 32, "num_key_value_heads": 8, "num_local_experts": 8,
             "num_experts_per_tok": 2, "tie_word_embeddings": false}
            """
        try config.write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
        return dir
    }

    func testPublishedSizesAndHandComputedFlops() throws {
        let dir = try makeSparseMixtral(in: Fixtures.scratch())
        let report = try SizeReport(Checkpoint(path: dir), context: 4096)
        XCTAssertEqual(report.totalParams, 46_702_792_704)
        XCTAssertEqual((Double(report.totalParams) / 1e9 * 10).rounded() / 10, 46.7)
        XCTAssertEqual((Double(report.activeParams) / 1e9 * 10).rounded() / 10, 12.9)
        XCTAssertEqual(report.bytes, 46_702_792_704 * 2)
        let attention = 32.0 * (4096 * 4096 * 2 + 4096 * 1024 * 2)
        let experts = 32.0 * 2 * 3 * 4096 * 14336
        let gating = 32.0 * 8 * 4096
        let byHand = 4 * 4096 + 2 * attention + 2 * 32 * 4096 * 4096 + 2 * experts + 2 * gating + 2 * 4096 * 32000
        XCTAssertEqual(report.flopsPerToken, byHand, accuracy: 1)
    }
}
