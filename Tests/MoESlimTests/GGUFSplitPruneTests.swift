import Foundation
import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimFamilies
@testable import MoESlimSlimming

/// Split GGUF output (fixtures/gen_gguf.py): tiny Mixtral Q8_0 pruned by plan.json equals, part for part and
/// byte for byte, what gguf-py's writer writes for the independently pruned model split the same way: in parts
/// of at most 8 tensors (from the split input, or from one file with --split-max-tensors 8) or of at most 8000
/// bytes of tensor data (--split-max-size 8000); a first part of metadata only stays so.
final class GGUFSplitPruneTests: XCTestCase {
    private var folder = ""
    private let plan = FixturePaths.fixture("gguf/plan.json")

    override func setUp() {
        folder = NSTemporaryDirectory() + "gguf-split-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: folder)
    }

    private func parts(_ prefix: String, of count: Int = 3) -> [String] { (1...count).map { "\(prefix)-0000\($0)-of-0000\(count).gguf" } }

    private func prune(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try CommandRunner.run(["prune"] + arguments + ["--plan", plan])
        XCTAssertEqual(r.status, 0, r.stderr, file: file, line: line)
    }

    private func assertSameFiles(_ ours: [String], _ expected: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix(".") }, [], "temporaries left", file: file, line: line)
        for (a, b) in zip(ours, expected) {
            XCTAssertTrue(try Data(contentsOf: URL(fileURLWithPath: a)) == Data(contentsOf: URL(fileURLWithPath: b)), "\(a) differs from \(b)", file: file, line: line)
        }
    }

    func testSplitInputGivesASplitOutputWithTheSamePartsAsGGUFPyWrites() throws {
        try prune([FixturePaths.fixture("gguf/models/mixtral-q8_0-split-00002-of-00003.gguf"), "\(folder)/out.gguf"])
        try assertSameFiles(parts("\(folder)/out"), parts(FixturePaths.fixture("gguf/expected/mixtral-q8_0-split")))
        try prune([FixturePaths.fixture("gguf/models/mixtral-q8_0-meta-00001-of-00004.gguf"), "\(folder)/meta.gguf"])
        try assertSameFiles(parts("\(folder)/meta", of: 4), parts(FixturePaths.fixture("gguf/expected/mixtral-q8_0-meta"), of: 4))
        XCTAssertEqual(try GGUFModel(path: "\(folder)/meta-00001-of-00004.gguf").parts.map(\.header.tensors.count), [0, 8, 8, 7])
    }

    func testSplitMaxTensorsAndSizeCutPartsAsGGUFPy() throws {
        let input = FixturePaths.fixture("gguf/models/mixtral-q8_0.gguf")
        try prune([input, "\(folder)/t-00001-of-00003.gguf", "--split-max-tensors", "8"])
        try assertSameFiles(parts("\(folder)/t"), parts(FixturePaths.fixture("gguf/expected/mixtral-q8_0-split")))
        try prune([input, "\(folder)/s.gguf", "--split-max-size", "8000"])
        try assertSameFiles(parts("\(folder)/s"), parts(FixturePaths.fixture("gguf/expected/mixtral-q8_0-sized")))
        try prune([input, "\(folder)/one.gguf", "--split-max-size", "1GB"])
        try assertSameFiles(["\(folder)/one.gguf"], [FixturePaths.fixture("gguf/expected/mixtral-q8_0.gguf")])
        try prune([FixturePaths.fixture("gguf/models/mixtral-q8_0-split-00001-of-00003.gguf"), "\(folder)/merged.gguf", "--split-max-size", "1000TB"])
        try assertSameFiles(["\(folder)/merged.gguf"], [FixturePaths.fixture("gguf/expected/mixtral-q8_0.gguf")])
    }

    /// The first part has the model's metadata, then the split keys; the others only the split keys; the
    /// tensors are the one-file golden's, byte for byte.
    func testPartsHoldTheSplitKeysAndTheOneFileGoldensTensors() throws {
        try prune([FixturePaths.fixture("gguf/models/mixtral-q8_0-split-00001-of-00003.gguf"), "\(folder)/out.gguf"])
        let split = try GGUFModel(path: "\(folder)/out-00003-of-00003.gguf")
        let one = try GGUFModel(path: FixturePaths.fixture("gguf/expected/mixtral-q8_0.gguf"))
        let splitKeys = ["split.no", "split.count", "split.tensors.count"]
        XCTAssertEqual(split.metadata.map(\.key), one.metadata.map(\.key) + splitKeys)
        for kv in one.metadata { XCTAssertEqual(split.value(kv.key), kv.value, kv.key) }
        for (number, part) in split.parts.enumerated() {
            XCTAssertEqual(part.header.value("split.no"), .integer(.uint16, Int64(number)))
            XCTAssertEqual(part.header.value("split.count"), .integer(.uint16, 3))
            XCTAssertEqual(part.header.value("split.tensors.count"), .integer(.int32, 23))
            if number > 0 { XCTAssertEqual(part.header.metadata.map(\.key), splitKeys) }
        }
        XCTAssertEqual(split.parts.map(\.header.tensors.count), [8, 8, 7])
        XCTAssertEqual(split.tensors.map(\.info.name), one.tensors.map(\.info.name))
        for ((p, a), (_, b)) in zip(split.tensors, one.tensors) {
            XCTAssertEqual(a.dims, b.dims, a.name)
            XCTAssertEqual(Array(split.parts[p].bytes(of: a)), Array(one.parts[0].bytes(of: b)), a.name)
        }
    }

    func testPartsThatWouldLandOnTheInputsPartsAreRefused() throws {
        for part in parts(FixturePaths.fixture("gguf/models/mixtral-q8_0-split")) {
            try FileManager.default.copyItem(atPath: part, toPath: "\(folder)/" + URL(fileURLWithPath: part).lastPathComponent)
        }
        let input = "\(folder)/mixtral-q8_0-split-00002-of-00003.gguf"
        let r = try CommandRunner.run(["prune", input, "\(folder)/mixtral-q8_0-split.gguf", "--plan", plan, "--force"])
        XCTAssertEqual(r.status, 64)
        XCTAssertEqual(r.stderr, "moe-slim: error: \(folder)/mixtral-q8_0-split-00001-of-00003.gguf: the output would write over or inside the input \(folder)/mixtral-q8_0-split-00001-of-00003.gguf\n")
        try assertSameFiles(parts("\(folder)/mixtral-q8_0-split"), parts(FixturePaths.fixture("gguf/models/mixtral-q8_0-split")))
    }

    func testRefusedOutputsLeaveNothingBehind() throws {
        let input = FixturePaths.fixture("gguf/models/mixtral-q8_0-split-00001-of-00003.gguf")
        let existing = "\(folder)/out-00002-of-00003.gguf"
        XCTAssertTrue(FileManager.default.createFile(atPath: existing, contents: Data("keep".utf8)))
        let exists = try CommandRunner.run(["prune", input, "\(folder)/out.gguf", "--plan", plan])
        XCTAssertEqual(exists.status, 73)
        XCTAssertEqual(exists.stderr, "moe-slim: error: \(existing): the output already exists (use --force to replace it)\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder), ["out-00002-of-00003.gguf"])
        let count = try CommandRunner.run(["prune", input, "\(folder)/x-00001-of-00002.gguf", "--plan", plan])
        XCTAssertEqual(count.status, 64)
        XCTAssertEqual(count.stderr, "moe-slim: error: \(folder)/x-00001-of-00002.gguf: names a part of a 2-part split, but the output has 3 parts; name it <name>.gguf or <name>-00001-of-00003.gguf\n")
        let forced = try CommandRunner.run(["prune", input, "\(folder)/out.gguf", "--plan", plan, "--force"])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        try assertSameFiles(parts("\(folder)/out"), parts(FixturePaths.fixture("gguf/expected/mixtral-q8_0-split")))
        let safetensors = try CommandRunner.run(["prune", Fixtures.model("mixtral"), "\(folder)/st", "--plan", plan, "--split-max-tensors", "8"])
        XCTAssertEqual(safetensors.status, 64)
        XCTAssertTrue(safetensors.stderr.contains("--split-max-tensors and --split-max-size cut a GGUF output; a safetensors output is sharded by --max-shard-size"), safetensors.stderr)
    }

    /// split.count is a uint16: a destination naming a part of a 70000-part split was taken as it was, and every
    /// part was written with split.count 70000 truncated to 4464 before the read-back refused them.
    func testMorePartsThanSplitCountCanSayAreRefusedWhateverTheName() throws {
        for destination in ["\(folder)/x.gguf", "\(folder)/x-00001-of-70000.gguf"] {
            XCTAssertThrowsError(try GGUFSplit.paths(destination, count: 70_000), destination) { error in
                XCTAssertEqual("\(error)", "\(destination): the output would have 70000 parts, more than split.count (a uint16) can say")
            }
        }
        XCTAssertEqual(try GGUFSplit.paths("\(folder)/x-00001-of-65535.gguf", count: 65_535).count, 65_535)
    }
}
