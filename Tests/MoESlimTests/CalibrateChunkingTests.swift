import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimEngine
@testable import MoESlimSlimming

/// Chunk size is a memory knob only: many small chunks must route every token exactly as one large chunk.
final class CalibrateChunkingTests: XCTestCase {
    /// Bit for bit, on every kernel path this CPU has, for an f32 model and a bf16 one.
    func testSmallChunksGiveTheSameCounts() throws {
        try KernelPaths.each { path in
            for name in ["gpt_oss", "mixtral-bf16"] { try checkChunking(name, path) }
        }
    }

    private func checkChunking(_ name: String, _ path: String) throws {
        let golden = try EngineGolden.load(name)
        let pass = try ForwardPass(checkpoint: Checkpoint(path: EngineGolden.folder(name)))
        func run(_ chunkTokens: Int) throws -> ExpertCounts {
            var sequences = golden.sequences.map(\.inputIds).makeIterator()
            return try Calibration(pass: pass, chunkTokens: chunkTokens).run(settings: [:]) { () throws(MoESlimError) in
                sequences.next().map { ($0, nil) }
            }
        }
        let one = try run(1 << 20)
        let many = try run(6)
        XCTAssertEqual(one.tokens, many.tokens)
        XCTAssertEqual(one.sequences, golden.sequences.count)
        XCTAssertEqual(one.layers, many.layers, "\(name), \(path)")
    }

    func testTokenOutsideTheVocabularyIsRefused() throws {
        let pass = try ForwardPass(checkpoint: Checkpoint(path: EngineGolden.folder("mixtral")))
        XCTAssertThrowsError(try pass.run([[1, 96]]) { _ in }) { error in
            XCTAssertEqual((error as? MoESlimError)?.code, .invalidData)
        }
    }
}
