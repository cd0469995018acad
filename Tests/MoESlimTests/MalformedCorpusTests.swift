import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimSlimming

/// Every file of fixtures/malformed (written by fixtures/gen_malformed.py) with the exact error verify reports
/// first. Messages are compared in full, paths relative to fixtures/.
final class MalformedCorpusTests: XCTestCase {
    static let expected: [String: (MoESlimError.Code, String)] = [
        "empty-file.safetensors": (.invalidHeader, "file is 0 bytes, too short for the 8-byte header length"),
        "truncated-length.safetensors": (.invalidHeader, "file is 3 bytes, too short for the 8-byte header length"),
        "header-past-eof.safetensors": (.invalidHeader, "header length 4096 runs past the end of the 15-byte file"),
        "header-too-large.safetensors": (.invalidHeader, "header length 100000001 exceeds the 100 MB limit"),
        "header-length-huge.safetensors": (.invalidHeader, "header length 18446744073709551615 exceeds the 100 MB limit"),
        "truncated-header.safetensors": (.invalidHeader, "header is not valid JSON: invalid JSON at byte 24: unterminated string"),
        "empty-header.safetensors": (.invalidHeader, "header is empty"),
        "non-object-json.safetensors": (.invalidHeader, "header does not start with '{'"),
        "leading-space.safetensors": (.invalidHeader, "header does not start with '{'"),
        "bom.safetensors": (.invalidHeader, "header starts with a byte order mark"),
        "nul-padding.safetensors": (.invalidHeader, "header contains a NUL byte"),
        "invalid-json.safetensors": (.invalidHeader, "header is not valid JSON: invalid JSON at byte 22: expected a string key"),
        "trailing-json.safetensors": (.invalidHeader, "header is not valid JSON: invalid JSON at byte 3: unexpected data after the JSON value"),
        "invalid-utf8.safetensors": (.invalidHeader, "header is not valid JSON: invalid JSON at byte 5: string is not valid UTF-8"),
        "deep-nesting.safetensors": (.invalidHeader, "header is not valid JSON: invalid JSON at byte 80: nesting deeper than 64"),
        "duplicate-tensor.safetensors": (.invalidHeader, "header is not valid JSON: invalid JSON at byte 54: duplicate key 'a'"),
        "duplicate-field.safetensors": (.invalidHeader, "header is not valid JSON: invalid JSON at byte 20: duplicate key 'dtype'"),
        "duplicate-metadata-key.safetensors": (.invalidHeader, "header is not valid JSON: invalid JSON at byte 31: duplicate key 'format'"),
        "metadata-non-string.safetensors": (.invalidHeader, "__metadata__ value for 'epoch' is not a string"),
        "metadata-not-object.safetensors": (.invalidHeader, "__metadata__ is not an object"),
        "entry-not-object.safetensors": (.invalidHeader, "tensor 'a': entry is not an object"),
        "unknown-dtype.safetensors": (.invalidHeader, "tensor 'a': unknown dtype 'F128'"),
        "lowercase-dtype.safetensors": (.invalidHeader, "tensor 'a': unknown dtype 'f32'"),
        "dtype-not-string.safetensors": (.invalidHeader, "tensor 'a': dtype is not a string"),
        "negative-dim.safetensors": (.invalidHeader, "tensor 'a': shape dimension -2 is negative"),
        "fractional-dim.safetensors": (.invalidHeader, "tensor 'a': shape dimension 2.0 is not a non-negative integer"),
        "huge-dim.safetensors": (.invalidHeader, "tensor 'a': shape dimension 99999999999999999999 is too large"),
        "shape-not-list.safetensors": (.invalidHeader, "tensor 'a': shape is not a list"),
        "element-count-overflow.safetensors": (.invalidHeader, "tensor 'a': shape [4294967296, 4294967296, 16] of U8 has a size that overflows 64 bits"),
        "byte-count-overflow.safetensors": (.invalidHeader, "tensor 'a': shape [2305843009213693952] of F64 has a size that overflows 64 bits"),
        "partial-byte.safetensors": (.invalidHeader, "tensor 'a': shape [3] of F4 is 12 bits, not a whole number of bytes"),
        "span-mismatch.safetensors": (.invalidHeader, "tensor 'a': shape [3] of F32 needs 12 bytes but data_offsets span 8"),
        "offsets-reversed.safetensors": (.invalidHeader, "tensor 'a': data_offsets [8, 0] end before they begin"),
        "offsets-not-pair.safetensors": (.invalidHeader, "tensor 'a': data_offsets is not a pair"),
        "offsets-negative.safetensors": (.invalidHeader, "tensor 'a': data_offsets entry is not a non-negative integer"),
        "missing-offsets.safetensors": (.invalidHeader, "tensor 'a': missing data_offsets"),
        "unexpected-field.safetensors": (.invalidHeader, "tensor 'a': unexpected field 'stride'"),
        "overlapping-offsets.safetensors": (.invalidHeader, "tensor 'b': data_offsets [4, 12] overlap the previous tensor (ends at 8)"),
        "gap-offsets.safetensors": (.invalidHeader, "tensor 'b': data_offsets [12, 20] leave a gap after byte 8"),
        "offsets-past-eof.safetensors": (.invalidHeader, "tensor 'a': data_offsets [0, 8] run past the end of the file (data is 4 bytes)"),
        "trailing-bytes.safetensors": (.invalidHeader, "the data buffer has 4 bytes that no tensor covers"),
    ]

    /// Folder cases: the path in the message is the file the problem is in, so it is part of the expectation.
    static let expectedFolders: [String: (MoESlimError.Code, String)] = [
        "index-parent-path": (.invalidIndex, "index-parent-path/model.safetensors.index.json: weight_map names shard '../model-00002-of-00002.safetensors', which is not a .safetensors file inside the model folder"),
        "index-absolute-path": (.invalidIndex, "index-absolute-path/model.safetensors.index.json: weight_map names shard '/tmp/model-00002-of-00002.safetensors', which is not a .safetensors file inside the model folder"),
        "index-other-extension": (.invalidIndex, "index-other-extension/model.safetensors.index.json: weight_map names shard 'model-00002-of-00002.bin', which is not a .safetensors file inside the model folder"),
        "index-missing-shard": (.invalidIndex, "index-missing-shard/model.safetensors.index.json: weight_map names shard 'model-00002-of-00002.safetensors', which is missing"),
        "index-no-weight-map": (.invalidIndex, "index-no-weight-map/model.safetensors.index.json: index has no weight_map object"),
        "index-unlisted-tensor": (.invalidIndex, "index-unlisted-tensor/model-00002-of-00002.safetensors: tensor 'lm_head.weight': tensor is in this shard but weight_map does not list it"),
        "index-wrong-shard": (.invalidIndex, "index-wrong-shard/model-00002-of-00002.safetensors: tensor 'lm_head.weight': tensor is in this shard but weight_map places it in 'model-00001-of-00002.safetensors'"),
        "index-phantom-tensor": (.invalidIndex, "index-phantom-tensor/model.safetensors.index.json: tensor 'model.extra.weight': weight_map places the tensor in 'model-00001-of-00002.safetensors', which does not contain it"),
        "stray-shard": (.invalidIndex, "stray-shard: 'model-00003-of-00003.safetensors' is a .safetensors file that model.safetensors.index.json does not name"),
        "shard-bad-header": (.invalidHeader, "shard-bad-header/model-00002-of-00002.safetensors: header contains a NUL byte"),
        "config-expert-count": (.invalidTensor, "config-expert-count: tensor 'model.layers.0.block_sparse_moe.gate.weight': MoE layer 0: has 4 experts on axis 0 but the config says 8"),
        "config-negative-layers": (.invalidConfig, "config-negative-layers/config.json: num_hidden_layers is -1, outside 0...10000"),
        "config-vocab-size": (.invalidTensor, "config-vocab-size: tensor 'model.embed_tokens.weight': has shape [8, 4] but the config's vocab_size and hidden_size make [9, 4]"),
        "expert-shape-mismatch": (.invalidTensor, "expert-shape-mismatch: tensor 'model.layers.1.block_sparse_moe.experts.2.w1.weight': MoE layer 1: expert 2 has F32 [3, 4] where expert 0 has F32 [4, 4]"),
        "config-empty": (.invalidConfig, "config-empty/config.json: invalid JSON at byte 0: unexpected end of input"),
    ]

    private func firstProblem(_ relative: String) -> MoESlimError? {
        Verifier.check(FixturePaths.fixture("malformed/" + relative), scan: false).problems.first
    }

    func testEveryCorpusEntryHasAnExpectation() throws {
        let present = Set(try FileManager.default.contentsOfDirectory(atPath: FixturePaths.fixture("malformed")))
        XCTAssertEqual(present, Set(Self.expected.keys).union(Self.expectedFolders.keys))
    }

    func testFilesGiveTheirExactError() {
        for (name, (code, message)) in Self.expected.sorted(by: { $0.key < $1.key }) {
            guard let problem = firstProblem(name) else { XCTFail("\(name) passed verify"); continue }
            XCTAssertEqual(problem.code, code, name)
            XCTAssertEqual(problem.code.exitCode, 65, name)
            XCTAssertEqual(problem.description, FixturePaths.fixture("malformed/\(name)") + ": " + message, name)
        }
    }

    func testFoldersGiveTheirExactError() {
        for (name, (code, message)) in Self.expectedFolders.sorted(by: { $0.key < $1.key }) {
            guard let problem = firstProblem(name) else { XCTFail("\(name) passed verify"); continue }
            XCTAssertEqual(problem.code, code, name)
            XCTAssertEqual(problem.code.exitCode, 65, name)
            XCTAssertEqual(problem.description, FixturePaths.fixture("malformed/") + message, name)
        }
    }

    /// The readers every command uses refuse the same files with the same error verify reports first.
    func testOpeningThrowsTheSameError() {
        for name in ["gap-offsets.safetensors", "bom.safetensors", "partial-byte.safetensors"] {
            let path = FixturePaths.fixture("malformed/" + name)
            XCTAssertThrowsError(try Checkpoint(path: path)) { error in
                XCTAssertEqual("\(error)", firstProblem(name)?.description)
            }
        }
        XCTAssertThrowsError(try Checkpoint(path: FixturePaths.fixture("malformed/index-parent-path"))) { error in
            XCTAssertEqual((error as? MoESlimError)?.code, .invalidIndex)
        }
    }

    /// An index entry that escapes the folder is refused, and the real file it hides is then a stray shard.
    func testEscapingShardNameAlsoReportsTheStrayFile() {
        let problems = Verifier.check(FixturePaths.fixture("malformed/index-parent-path"), scan: false).problems
        XCTAssertEqual(problems.map(\.code), [.invalidIndex, .invalidIndex])
        XCTAssertEqual(problems.last?.message, "'model-00002-of-00002.safetensors' is a .safetensors file that model.safetensors.index.json does not name")
    }

    func testExecutableExitsWithTheCodeAndOneStderrLine() throws {
        for name in ["overlapping-offsets.safetensors", "header-too-large.safetensors", "stray-shard", "config-expert-count"] {
            let path = FixturePaths.fixture("malformed/" + name)
            let run = try CommandRunner.run(["verify", path])
            XCTAssertEqual(run.status, 65, name)
            XCTAssertEqual(run.stderrLines.count, 1, name)
            XCTAssertEqual(run.stderrLines.first.map(String.init), "moe-slim: error: \(firstProblem(name)!)", name)
        }
        let inspect = try CommandRunner.run(["inspect", FixturePaths.fixture("malformed/nul-padding.safetensors")])
        XCTAssertEqual(inspect.status, 65)
        XCTAssertEqual(inspect.stderrLines, ["moe-slim: error: \(FixturePaths.fixture("malformed/nul-padding.safetensors")): header contains a NUL byte"])
    }
}
