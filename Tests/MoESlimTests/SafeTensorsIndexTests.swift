import XCTest
@testable import MoESlimFormats

/// Sharded folders whose index and shards disagree: the first problem reported is the one a shard-by-shard,
/// tensor-by-tensor walk meets first, although the shards are opened all at once.
final class SafeTensorsIndexTests: XCTestCase {
    private func writeShard(_ path: String, _ tensors: [String]) throws {
        let entries = tensors.enumerated().map { i, name in #""\#(name)":{"dtype":"U8","shape":[1],"data_offsets":[\#(i),\#(i + 1)]}"# }
        let json = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        var bytes = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) } + json
        bytes += [UInt8](repeating: 0, count: tensors.count)
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
    }

    /// Two shards holding `first` and `second`, and an index saying where `map` puts each name.
    private func folder(first: [String], second: [String], map: [String: Int]) throws -> String {
        let dir = try Fixtures.scratch()
        let names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
        try writeShard(dir + "/" + names[0], first)
        try writeShard(dir + "/" + names[1], second)
        let weightMap = map.sorted { $0.key < $1.key }.map { #""\#($0.key)": "\#(names[$0.value])""# }.joined(separator: ", ")
        try #"{"metadata": {}, "weight_map": {\#(weightMap)}}"#.write(toFile: dir + "/" + Checkpoint.indexName, atomically: true, encoding: .utf8)
        return dir
    }

    private func problem(_ dir: String) -> String? {
        do {
            _ = try Checkpoint(path: dir)
            return nil
        } catch {
            return error.description.replacingOccurrences(of: dir + "/", with: "")
        }
    }

    func testAgreeingIndexFindsEveryTensorInItsShard() throws {
        let dir = try folder(first: ["a", "b"], second: ["c"], map: ["a": 0, "b": 0, "c": 1])
        let checkpoint = try Checkpoint(path: dir)
        XCTAssertEqual(checkpoint.names, ["a", "b", "c"])
        XCTAssertEqual(checkpoint.location(of: "c")?.shard, 1)
        XCTAssertEqual(checkpoint.location(of: "b")?.info.begin, 1)
        XCTAssertFalse(checkpoint.contains("d"))
    }

    func testTensorInTwoShards() throws {
        XCTAssertEqual(problem(try folder(first: ["a"], second: ["b", "a"], map: ["a": 0, "b": 1])),
                       "model-00002-of-00002.safetensors: tensor 'a': tensor appears in more than one shard")
        XCTAssertEqual(problem(try folder(first: ["a", "x"], second: ["b", "a"], map: ["a": 1, "b": 1, "x": 0])),
                       "model-00001-of-00002.safetensors: tensor 'a': tensor is in this shard but weight_map places it in 'model-00002-of-00002.safetensors'")
    }

    /// The first shard's disagreement comes before the second's, and before any tensor the index invents.
    func testFirstDisagreementInWalkOrder() throws {
        XCTAssertEqual(problem(try folder(first: ["a", "b"], second: ["c"], map: ["a": 0, "c": 0, "ghost": 1])),
                       "model-00001-of-00002.safetensors: tensor 'b': tensor is in this shard but weight_map does not list it")
        XCTAssertEqual(problem(try folder(first: ["a"], second: ["c"], map: ["a": 0, "c": 1, "ghost": 1])),
                       "model.safetensors.index.json: tensor 'ghost': weight_map places the tensor in 'model-00002-of-00002.safetensors', which does not contain it")
    }

    /// A later shard that is broken does not hide an earlier shard's disagreement, nor the reverse.
    func testBrokenLaterShardAfterEarlierDisagreement() throws {
        let dir = try folder(first: ["a", "b"], second: ["c"], map: ["a": 0, "c": 1])
        FileManager.default.createFile(atPath: dir + "/model-00002-of-00002.safetensors", contents: Data([2, 0, 0, 0, 0, 0, 0, 0, 91, 93]))
        XCTAssertEqual(problem(dir), "model-00001-of-00002.safetensors: tensor 'b': tensor is in this shard but weight_map does not list it")
        let missing = try folder(first: ["a"], second: ["c"], map: ["a": 0, "c": 1])
        FileManager.default.createFile(atPath: missing + "/model-00001-of-00002.safetensors", contents: Data([2, 0, 0, 0, 0, 0, 0, 0, 91, 93]))
        try FileManager.default.removeItem(atPath: missing + "/model-00002-of-00002.safetensors")
        XCTAssertEqual(problem(missing), "model-00001-of-00002.safetensors: header does not start with '{'")
    }

    /// The shards opened on other threads belong to the checkpoint alone (the fuzzer once found them leaked).
    func testShardsGoWithTheCheckpoint() throws {
        let dir = try folder(first: ["a"], second: ["c"], map: ["a": 0, "c": 1])
        weak var shard: SafeTensorsFile?
        do {
            let checkpoint = try Checkpoint(path: dir)
            shard = checkpoint.shards.last
            XCTAssertNotNil(shard)
        }
        XCTAssertNil(shard)
    }

    /// Shards are opened ahead of the walk, so one that is a FIFO must fail rather than block.
    func testFifoPosingAsAShardFailsInsteadOfHanging() throws {
        let dir = try folder(first: ["a"], second: ["c"], map: ["a": 0, "c": 1])
        let fifo = dir + "/model-00002-of-00002.safetensors"
        try FileManager.default.removeItem(atPath: fifo)
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        XCTAssertEqual(problem(dir), "model-00002-of-00002.safetensors: is a FIFO, not a regular file")
    }
}
