import Foundation
@testable import MoESlimSupport
@testable import MoESlimFormats

/// A Mixtral-shaped model of a few MB in several shards, written at test time into a fresh temporary folder,
/// large enough that a prune of it spends a noticeable while in its write loop.
struct FaultModel {
    static let hidden = 256
    static let experts = 4
    static let layers = 2

    let root: String
    var input: String { root + "/input" }

    init() throws {
        root = NSTemporaryDirectory() + "moe-slim-fault-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        try writeModel()
        try write("{\"layers\": {\"0\": [0, 1], \"1\": [0, 1]}}\n", to: root + "/keep-01.json")
        try write("{\"layers\": {\"0\": [2, 3], \"1\": [2, 3]}}\n", to: root + "/keep-23.json")
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }

    /// `moe-slim prune` arguments writing small output shards, so the output is a multi-shard folder.
    func pruneArguments(to output: String, plan: String = "keep-01.json", force: Bool = false) -> [String] {
        ["prune", input, output, "--plan", root + "/" + plan, "--max-shard-size", "300KB"] + (force ? ["--force"] : [])
    }

    /// FNV-1a over every file's name and bytes: enough to tell "unchanged" without a crypto dependency.
    static func hash(folder: String) throws -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ bytes: some Sequence<UInt8>) { for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 } }
        for name in try FileManager.default.contentsOfDirectory(atPath: folder).sorted() {
            mix(name.utf8)
            mix(try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)))
        }
        return h
    }

    /// Names in `folder` that carry the writer's temporary marker.
    static func temporaries(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.contains(".moe-slim-tmp-") }
    }

    private func writeModel() throws {
        let h = Self.hidden
        var shards: [[(String, [Int])]] = [[("model.embed_tokens.weight", [64, h])]]
        for layer in 0..<Self.layers {
            let p = "model.layers.\(layer)."
            var attention: [(String, [Int])] = ["q_proj", "k_proj", "v_proj", "o_proj"].map { (p + "self_attn.\($0).weight", [h, h]) }
            attention += [(p + "input_layernorm.weight", [h]), (p + "post_attention_layernorm.weight", [h]),
                          (p + "block_sparse_moe.gate.weight", [Self.experts, h])]
            shards[shards.count - 1] += attention
            var experts: [(String, [Int])] = []
            for e in 0..<Self.experts {
                experts += ["w1", "w2", "w3"].map { (p + "block_sparse_moe.experts.\(e).\($0).weight", [h, h]) }
            }
            shards.append(experts)
        }
        shards.append([("model.norm.weight", [h]), ("lm_head.weight", [64, h])])
        var weightMap: [(key: String, value: JSONValue)] = []
        for (i, tensors) in shards.enumerated() {
            let name = "model-0000\(i + 1)-of-0000\(shards.count).safetensors"
            try writeShard(tensors, seed: i, to: input + "/" + name)
            weightMap += tensors.map { ($0.0, .string(name)) }
        }
        let index: JSONValue = .object([("weight_map", .object(weightMap))])
        try write(index.serialized() + "\n", to: input + "/" + Checkpoint.indexName)
        try write("""
            {"model_type": "mixtral", "hidden_size": \(h), "intermediate_size": \(h), "num_hidden_layers": \(Self.layers),
             "num_attention_heads": 4, "num_key_value_heads": 4, "vocab_size": 64, "num_local_experts": \(Self.experts),
             "num_experts_per_tok": 2, "tie_word_embeddings": false}
            """, to: input + "/config.json")
    }

    private func writeShard(_ tensors: [(String, [Int])], seed: Int, to path: String) throws {
        var header = "{\"__metadata__\":{\"format\":\"pt\"}"
        var offset = 0
        for (name, shape) in tensors {
            let bytes = shape.reduce(4, *)
            header += ",\"\(name)\":{\"dtype\":\"F32\",\"shape\":\(shape),\"data_offsets\":[\(offset),\(offset + bytes)]}"
            offset += bytes
        }
        header += "}"
        while (8 + header.utf8.count) % 8 != 0 { header += " " }
        var file = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(contentsOf: header.utf8)
        var values = [Float](repeating: 0, count: offset / 4)
        for i in values.indices { values[i] = Float((i &* 31 &+ seed &* 7) % 97) / 97 }
        values.withUnsafeBytes { file.append(contentsOf: $0) }
        try file.write(to: URL(fileURLWithPath: path))
    }

    private func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }
}
