import Foundation
import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimFamilies
@testable import MoESlimSlimming

/// Every file of fixtures/gguf/malformed (written by fixtures/gen_gguf_malformed.py) with the exact error verify
/// reports, one per rule of formats/gguf.md; the valid files beside them pass. A message starting with `@names`
/// the file the error is about (another part of a split model).
final class GGUFMalformedCorpusTests: XCTestCase {
    static let expected: [String: String] = [
        "alignment-not-power-of-two.gguf": "general.alignment is 24, not a power of two",
        "alignment-not-uint32.gguf": "general.alignment is a uint64, not a uint32",
        "alignment-zero.gguf": "general.alignment is 0, not a power of two",
        "array-count-huge.gguf": "metadata 'test.list': array of 1152921504606846976 uint32 values runs past the end of the file",
        "array-unknown-element-type.gguf": "metadata 'test.list': array has unknown element type 99",
        "arrays-nested-too-deep.gguf": "metadata 'test.deep': arrays nested deeper than 8",
        "bad-magic.gguf": "does not start with the GGUF magic 47 47 55 46 ('GGUF'); it starts with 47 47 4D 4C",
        "big-endian.gguf": "GGUF version 50331648 is not supported: this is a big-endian file, and moe-slim reads little-endian GGUF only",
        "bool-array-not-0-or-1.gguf": "metadata 'test.flags': bool value 7 is neither 0 nor 1",
        "bool-not-0-or-1.gguf": "metadata 'test.flag': bool value 2 is neither 0 nor 1",
        "byte-count-overflow.gguf": "tensor 'a': size overflows 63 bits",
        "data-past-eof.gguf": "tensor 'blk.0.ffn_gate_inp.weight': data [512, 768) runs past the end of the file (the data section holds 600 bytes)",
        "data-start-past-eof.gguf": "the data section would start at byte 289 rounded up to the alignment 32, past the end of the 289-byte file",
        "duplicate-key.gguf": "metadata key 'general.architecture' appears twice",
        "duplicate-tensor.gguf": "tensor 'a': appears twice in the tensor infos",
        "element-count-overflow.gguf": "tensor 'a': dimension 4294967296 makes an element count that overflows 63 bits",
        "embedding-shape.gguf": "tensor 'token_embd.weight': has shape [4, 16] but llama.embedding_length makes [<vocab>, 32]",
        "empty-file.gguf": "file is 0 bytes, too short for the 24-byte GGUF header",
        "empty-key.gguf": "metadata key at byte 24 is empty",
        "experts-without-router.gguf": "tensor 'blk.0.ffn_up_exps.weight': layer 0 has stacked expert tensors but no router blk.0.ffn_gate_inp.weight",
        "expert-count-mismatch.gguf": "tensor 'blk.0.ffn_gate_inp.weight': MoE layer 0: has 2 experts on its outermost dimension (shape [2, 32]) but llama.expert_count is 3",
        "five-dimensions.gguf": "tensor 'a': has 5 dimensions; GGUF allows 1 to 4",
        "key-length-huge.gguf": "metadata key at byte 24 is 18446744073709551615 bytes long, past the end of the file (byte 32)",
        "key-not-utf8.gguf": "metadata key at byte 24 is not valid UTF-8",
        "key-too-long.gguf": "metadata key at byte 24 is 70000 bytes, over the limit of 65535",
        "metadata-count-huge.gguf": "metadata count 1099511627776 is over the limit of 1048576",
        "no-architecture.gguf": "has no general.architecture string",
        "offset-huge.gguf": "tensor 'a': offset 9223372036854775808 overflows 63 bits",
        "offset-misaligned.gguf": "tensor 'blk.0.ffn_gate_inp.weight': offset 516 is not a multiple of the alignment 32",
        "offsets-gap.gguf": "tensor 'blk.0.ffn_gate_inp.weight': data at offset 576 leaves a gap after the previous tensor, which ends at 512 (next aligned offset 512)",
        "offsets-overlap.gguf": "tensor 'blk.0.ffn_gate_inp.weight': data at offset 256 overlaps the previous tensor, which ends at 512",
        "partial-block.gguf": "tensor 'a': rows of 16 elements are not whole Q8_0 blocks of 32",
        "router-without-experts.gguf": "MoE layer 0 has a router but no stacked *_exps expert tensors",
        "short-header.gguf": "file is 10 bytes, too short for the 24-byte GGUF header",
        "split-count-00001-of-00002.gguf": "split.count is 3 but the file name says 2 parts",
        "split-duplicate-00001-of-00002.gguf": "@split-duplicate-00002-of-00002.gguf: tensor 'token_embd.weight': appears in more than one split part",
        "split-missing-00001-of-00002.gguf": "@split-missing-00002-of-00002.gguf: split part is missing (the split has 2 parts)",
        "split-number-00001-of-00002.gguf": "@split-number-00002-of-00002.gguf: split.no is 0 but the file name says part 2 of 2 (split.no counts from 0)",
        "split-tensor-count-00001-of-00002.gguf": "split.tensors.count is 5 but the 2 parts hold 3 tensors",
        "split-unnamed.gguf": "split.count is 2, but the file is not named as part of a split (<name>-00001-of-00002.gguf)",
        "string-past-eof.gguf": "value of 'test.text' at byte 45 is 1000 bytes long, past the end of the file (byte 64)",
        "tensor-count-huge.gguf": "tensor count 18446744073709551615 is over the limit of 1048576",
        "tensor-name-empty.gguf": "tensor name at byte 255 is empty",
        "tensor-name-not-utf8.gguf": "tensor name at byte 255 is not valid UTF-8",
        "tensor-name-too-long.gguf": "tensor 'tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt': name is 64 bytes, over llama.cpp's limit of 63",
        "top-k-above-experts.gguf": "llama.expert_used_count is 3, outside 1...2 (the expert count)",
        "trailing-bytes.gguf": "the data section has 64 bytes after its last tensor, more than alignment padding",
        "truncated-metadata.gguf": "metadata key at byte 182 is 18 bytes long, past the end of the file (byte 200)",
        "truncated-tensor-info.gguf": "dimensions of 'a' at byte 276 needs 8 bytes but the file ends at byte 282",
        "unknown-ggml-type.gguf": "tensor 'a': unknown ggml type 4",
        "unknown-value-type.gguf": "metadata 'test.value' has unknown value type 13",
        "version-1.gguf": "GGUF version 1 is not supported (moe-slim reads versions 2 and 3)",
        "zero-dimensions.gguf": "tensor 'a': has 0 dimensions; GGUF allows 1 to 4",
    ]

    static let imatrix: [String: String] = [
        "imatrix-expert-count.gguf": "tensor 'blk.0.ffn_up_exps.weight.counts': counts 3 experts but layer 0 of the model has 2",
        "imatrix-fractional-count.gguf": "tensor 'blk.0.ffn_up_exps.weight.counts': expert 0 has count 1.5, not a whole number of tokens",
        "imatrix-negative-count.gguf": "tensor 'blk.0.ffn_up_exps.weight.counts': expert 0 has count -1.0, not a whole number of tokens",
        "imatrix-shape.gguf": "tensor 'blk.0.ffn_up_exps.weight.counts': is F32 [1, 2], not the F32 [experts, 1] of llama-imatrix counts",
    ]

    private func malformed(_ name: String) -> String { FixturePaths.fixture("gguf/malformed/" + name) }

    private func description(_ name: String, _ message: String) -> String {
        guard message.hasPrefix("@") else { return malformed(name) + ": " + message }
        let (file, rest) = message.dropFirst().split(separator: ":", maxSplits: 1).map(String.init).pair
        return malformed(file) + ":" + rest
    }

    func testEveryCorpusEntryHasAnExpectation() throws {
        let present = Set(try FileManager.default.contentsOfDirectory(atPath: FixturePaths.fixture("gguf/malformed")))
        let firstParts = present.filter { !$0.contains("-00002-of-") }
        XCTAssertEqual(firstParts, Set(Self.expected.keys).union(Self.imatrix.keys))
    }

    func testVerifyGivesTheExactError() {
        for (name, message) in Self.expected.sorted(by: { $0.key < $1.key }) {
            let report = Verifier.check(malformed(name), scan: false)
            XCTAssertEqual(report.problems.first.map { "\($0)" }, description(name, message), name)
            XCTAssertEqual(report.problems.first?.code.exitCode, 65, name)
        }
    }

    func testValidFilesPass() throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: FixturePaths.fixture("gguf/valid")) {
            let report = Verifier.check(FixturePaths.fixture("gguf/valid/" + name), scan: true)
            XCTAssertEqual(report.problems.map(\.description), [], name)
        }
        let split = try GGUFModel(path: FixturePaths.fixture("gguf/valid/split-00002-of-00002.gguf"))
        XCTAssertEqual(split.parts.count, 2)
        XCTAssertEqual(split.tensors.map(\.part), [0, 0, 1])
        let nested = try GGUFModel(path: FixturePaths.fixture("gguf/valid/nested-arrays.gguf"))
        guard case .array(let outer)? = nested.value("test.nested") else { return XCTFail("no nested array") }
        XCTAssertEqual(outer.elementType, .array)
        XCTAssertEqual(outer.count, 2)
        XCTAssertEqual(try GGUFModel(path: FixturePaths.fixture("gguf/valid/alignment-64.gguf")).parts[0].header.dataStart % 64, 0)
        XCTAssertEqual(try GGUFModel(path: FixturePaths.fixture("gguf/valid/version-2.gguf")).parts[0].header.version, 2)
    }

    func testImatrixCountsGiveTheExactError() throws {
        let model = try GGUFArchitectures.describe(GGUFModel(path: FixturePaths.fixture("gguf/valid/model.gguf")))
        for (name, message) in Self.imatrix.sorted(by: { $0.key < $1.key }) {
            XCTAssertThrowsError(try ImatrixCounts.load(malformed(name), for: model), name) { error in
                XCTAssertEqual("\(error)", malformed(name) + ": " + message)
            }
        }
        let notImatrix = FixturePaths.fixture("gguf/valid/model.gguf")
        XCTAssertThrowsError(try ImatrixCounts.load(notImatrix, for: model)) { error in
            XCTAssertEqual("\(error)", notImatrix + ": is a GGUF but not a llama-imatrix file (general.type is not 'imatrix')")
        }
        XCTAssertEqual(try ImatrixCounts.load(FixturePaths.fixture("gguf/valid/imatrix.gguf"), for: model).layers[0].hard, [1, 3])
    }

    func testTheExecutableExitsWith65AndOneLine() throws {
        let path = malformed("bad-magic.gguf")
        let inspect = try CommandRunner.run(["inspect", path])
        XCTAssertEqual(inspect.status, 65)
        XCTAssertEqual(inspect.stderr, "moe-slim: error: \(path): does not start with the GGUF magic 47 47 55 46 ('GGUF'); it starts with 47 47 4D 4C\n")
    }

    /// Stacked experts without a router made a dense layer, and prune wrote expert_count 0 beside them (exit 0).
    func testPruneRefusesExpertsWithoutARouter() throws {
        let path = malformed("experts-without-router.gguf")
        let out = NSTemporaryDirectory() + "never-\(UUID().uuidString).gguf"
        let r = try CommandRunner.run(["prune", path, out, "--criterion", "aimer", "--keep", "1"])
        XCTAssertEqual(r.status, 65)
        XCTAssertEqual(r.stderr, "moe-slim: error: \(path): tensor 'blk.0.ffn_up_exps.weight': layer 0 has stacked expert tensors but no router blk.0.ffn_gate_inp.weight\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    /// expert_group_count 3 over 8 experts (valid/grouped-router.gguf patched here): the plan chose inside groups of
    /// 8 / 3 = 2, so experts 6 and 7 were never kept, whatever the criterion said (exit 0).
    func testExpertGroupsThatDoNotDivideTheExpertsAreRefused() throws {
        let folder = try Fixtures.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = try patchedUInt32("gguf/valid/grouped-router.gguf", key: "deepseek2.expert_group_count", from: 2, to: 3, into: folder + "/groups.gguf")
        let r = try CommandRunner.run(["prune", path, folder + "/out.gguf", "--criterion", "random", "--seed", "1", "--keep", "6"])
        XCTAssertEqual(r.status, 65)
        XCTAssertEqual(r.stderr, "moe-slim: error: \(path): deepseek2.expert_group_count is 3; it must be a positive divisor of the 8 experts (deepseek2.expert_count)\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/out.gguf"))
    }

    /// expert_group_used_count 0 or 3 with 2 groups (valid/grouped-router.gguf patched here): no token could choose
    /// an expert, or the plan check asked for more groups than exist (and a huge count overflowed it).
    func testGroupsUsedOutsideTheGroupCountAreRefused() throws {
        let folder = try Fixtures.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for used: UInt8 in [0, 3] {
            let path = try patchedUInt32("gguf/valid/grouped-router.gguf", key: "deepseek2.expert_group_used_count", from: 1, to: used, into: folder + "/used\(used).gguf")
            let r = try CommandRunner.run(["prune", path, folder + "/out.gguf", "--criterion", "random", "--seed", "1", "--keep", "6"])
            XCTAssertEqual(r.status, 65)
            XCTAssertEqual(r.stderr, "moe-slim: error: \(path): deepseek2.expert_group_used_count is \(used), outside 1...2 (deepseek2.expert_group_count)\n")
            XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/out.gguf"))
        }
    }

    /// block_count 1 in a 2-block model (models/mixtral-q8_0.gguf patched here): block 1's router and experts were
    /// copied unpruned, 4 experts beside an expert_count of 2, and prune exited 0.
    func testMoETensorsPastBlockCountAreRefused() throws {
        let folder = try Fixtures.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = try patchedUInt32("gguf/models/mixtral-q8_0.gguf", key: "llama.block_count", from: 2, to: 1, into: folder + "/blocks.gguf")
        let r = try CommandRunner.run(["prune", path, folder + "/out.gguf", "--criterion", "random", "--seed", "1", "--keep", "2"])
        XCTAssertEqual(r.status, 65)
        XCTAssertEqual(r.stderr, "moe-slim: error: \(path): tensor 'blk.1.ffn_gate_inp.weight': is a router or stacked expert tensor of no block llama.block_count (1) gives\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/out.gguf"))
    }

    /// A copy of a fixture whose uint32 metadata value `key` (type 4, then the value) is changed from `from` to `to`.
    private func patchedUInt32(_ fixture: String, key: String, from: UInt8, to: UInt8, into path: String) throws -> String {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: FixturePaths.fixture(fixture))))
        let name = Array(key.utf8)
        let at = try XCTUnwrap((0...(bytes.count - name.count)).first { bytes[$0..<($0 + name.count)].elementsEqual(name) }) + name.count
        XCTAssertEqual(Array(bytes[at..<(at + 8)]), [4, 0, 0, 0, from, 0, 0, 0])
        bytes[at + 4] = to
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A split input gives the same parts; limits that leave one part give one file without split keys.
    func testASplitModelPrunesIntoTheSamePartsOrIntoOneFile() throws {
        let folder = NSTemporaryDirectory() + "gguf-split-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let input = try GGUFModel(path: FixturePaths.fixture("gguf/valid/split-00001-of-00002.gguf"))
        let model = try GGUFArchitectures.describe(input)
        try GGUFPruneWriter(input: input, model: model, plan: PruningPlan(kept: [0: [1]])).write(to: "\(folder)/parts.gguf", force: false)
        let parts = try GGUFModel(path: "\(folder)/parts-00002-of-00002.gguf")
        XCTAssertEqual(parts.parts.map(\.header.tensors.count), input.parts.map(\.header.tensors.count))
        XCTAssertEqual(parts.parts[1].header.metadata.map(\.key), ["split.no", "split.count", "split.tensors.count"])
        let out = "\(folder)/one.gguf"
        try GGUFPruneWriter(input: input, model: model, plan: PruningPlan(kept: [0: [1]]), split: .limits(tensors: 0, bytes: 0)).write(to: out, force: false)
        let written = try GGUFModel(path: out)
        XCTAssertEqual(written.parts.count, 1)
        XCTAssertFalse(written.metadata.contains { $0.key.hasPrefix("split.") })
        XCTAssertEqual(written.tensors.map(\.info.dims), [[32, 4], [32, 1], [32, 32, 1]])
        XCTAssertEqual(parts.tensors.map(\.info.dims), written.tensors.map(\.info.dims))
        let upBefore = input.tensor("blk.0.ffn_up_exps.weight")!
        let slab = upBefore.info.outerSliceBytes
        let expert1 = Array(input.parts[1].bytes(of: upBefore.info)[slab..<(2 * slab)])
        XCTAssertEqual(Array(written.parts[0].bytes(of: written.tensor("blk.0.ffn_up_exps.weight")!.info)), expert1)
        let inPart = parts.tensor("blk.0.ffn_up_exps.weight")!
        XCTAssertEqual(Array(parts.parts[inPart.part].bytes(of: inPart.info)), expert1)
    }
}

private extension Array {
    var pair: (Element, Element) { (self[0], self[1]) }
}
