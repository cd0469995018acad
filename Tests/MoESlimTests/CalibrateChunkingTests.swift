import XCTest
@testable import MoESlim

/// Chunk size is a memory knob only: many small chunks must route every token exactly as one large chunk.
final class CalibrateChunkingTests: XCTestCase {
    func testSmallChunksGiveTheSameCounts() throws {
        let golden = try EngineGolden.load("gpt_oss")
        let pass = try ForwardPass(checkpoint: Checkpoint(path: EngineGolden.folder("gpt_oss")))
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
        for (a, b) in zip(one.layers, many.layers) {
            XCTAssertEqual(a.hard, b.hard)
            for (x, y) in zip(a.soft + a.saliency, b.soft + b.saliency) { XCTAssertEqual(x, y, accuracy: 1e-5 * max(abs(y), 1)) }
        }
    }

    func testTokenOutsideTheVocabularyIsRefused() throws {
        let pass = try ForwardPass(checkpoint: Checkpoint(path: EngineGolden.folder("mixtral")))
        XCTAssertThrowsError(try pass.run([[1, 96]]) { _ in }) { error in
            XCTAssertEqual((error as? MoESlimError)?.code, .invalidData)
        }
    }
}
