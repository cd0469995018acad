import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimFamilies
@testable import MoESlimEngine
@testable import MoESlimSlimming

/// A model larger than the page cache is streamed: the planner leaves room for the layer read ahead, and the
/// pass drops finished tensors from the cache. Neither may change a single result.
final class StreamingTests: XCTestCase {
    func testStreamingGivesTheSameCounts() throws {
        for name in ["mixtral-bf16", "gpt_oss"] {
            let golden = try EngineGolden.load(name)
            let pass = try ForwardPass(checkpoint: Checkpoint(path: EngineGolden.folder(name)))
            func run(_ pass: ForwardPass) throws -> ExpertCounts {
                var sequences = golden.sequences.map(\.inputIds).makeIterator()
                return try Calibration(pass: pass, chunkTokens: 6).run(settings: [:]) { () throws(MoESlimError) in
                    sequences.next().map { ($0, nil) }
                }
            }
            let cached = try run(pass)
            let streamed = try run(pass.streaming(true))
            XCTAssertEqual(cached.tokens, streamed.tokens, name)
            XCTAssertEqual(cached.layers, streamed.layers, name)
        }
    }

    func testModelLargerThanTheCacheStreamsWithTheNextLayerCounted() throws {
        let checkpoint = try Checkpoint(path: EngineGolden.folder("mixtral-bf16"))
        let model = try ModelFamilies.describe(checkpoint)
        let budget = 1 << 30
        let cached = try ChunkPlanner(checkpoint: checkpoint, model: model, budget: budget, cacheRoom: budget + checkpoint.totalBytes)
        XCTAssertFalse(cached.streams)
        XCTAssertNil(cached.streamingNote)
        let streamed = try ChunkPlanner(checkpoint: checkpoint, model: model, budget: budget, cacheRoom: budget + checkpoint.totalBytes - 1)
        XCTAssertTrue(streamed.streams)
        let stored = ChunkPlanner.storedLayerBytes(checkpoint, prefix: model.layersPrefix)
        XCTAssertGreaterThan(stored, 0)
        XCTAssertEqual(streamed.chunkTokens, (budget - cached.widenedLayerBytes - stored) / cached.bytesPerToken)
        XCTAssertEqual(cached.chunkTokens, (budget - cached.widenedLayerBytes) / cached.bytesPerToken)
        XCTAssertTrue(streamed.streamingNote?.contains("once per chunk of \(streamed.chunkTokens) tokens") ?? false)
    }

    func testBudgetWithoutRoomForTheLayerReadAheadIsRefused() throws {
        let checkpoint = try Checkpoint(path: EngineGolden.folder("mixtral-bf16"))
        let model = try ModelFamilies.describe(checkpoint)
        let layer = try ChunkPlanner(checkpoint: checkpoint, model: model, budget: 1 << 30, cacheRoom: Int.max)
        let justEnough = layer.widenedLayerBytes + 64 * layer.bytesPerToken
        XCTAssertNoThrow(try ChunkPlanner(checkpoint: checkpoint, model: model, budget: justEnough, cacheRoom: Int.max))
        XCTAssertThrowsError(try ChunkPlanner(checkpoint: checkpoint, model: model, budget: justEnough, cacheRoom: 0)) { error in
            XCTAssertEqual((error as? MoESlimError)?.code, .invalidArgument)
            XCTAssertTrue("\(error)".contains("the next read ahead (the model is larger than the page cache)"), "\(error)")
        }
    }

    func testCgroupV1LimitIsTheHierarchicalOne() {
        let files = ["/sys/fs/cgroup/memory/job/7/memory.stat": "cache 4096\nhierarchical_memory_limit 1073741824\ntotal_cache 4096\n"]
        XCTAssertEqual(PageCacheRoom.cgroupLimit(membership: "4:memory:/job/7\n3:cpuset:/\n", read: { files[$0] }), 1 << 30)
        // v1 writes "unlimited" as a number near 2^63.
        let unlimited = ["/sys/fs/cgroup/memory/memory.stat": "hierarchical_memory_limit 9223372036854771712\n"]
        XCTAssertNil(PageCacheRoom.cgroupLimit(membership: "4:memory:/\n", read: { unlimited[$0] }))
    }

    func testCgroupV2LimitIsTheSmallestOnThePath() {
        let files = ["/sys/fs/cgroup/slurm/memory.max": "2147483648\n", "/sys/fs/cgroup/slurm/job_7/memory.max": "max\n"]
        XCTAssertEqual(PageCacheRoom.cgroupLimit(membership: "0::/slurm/job_7\n", read: { files[$0] }), 2 << 30)
        XCTAssertNil(PageCacheRoom.cgroupLimit(membership: "0::/\n", read: { _ in nil }))
        XCTAssertNil(PageCacheRoom.cgroupLimit(membership: "garbage\n0:memory\n", read: { _ in "1" }))
    }

    func testMachineRoomIsPositive() {
        XCTAssertGreaterThan(PageCacheRoom.bytes(), 0)
    }
}
