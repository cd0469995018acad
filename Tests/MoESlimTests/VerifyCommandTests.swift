import Foundation
import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimSlimming

final class VerifyCommandTests: XCTestCase {
    func testValidFixturesPass() {
        for name in ["valid/tiny-mixtral", "valid/mixed-dtypes.safetensors", "valid/empty.safetensors"] {
            let report = Verifier.check(FixturePaths.fixture(name), scan: true)
            XCTAssertEqual(report.problems.map(\.description), [], name)
            XCTAssertTrue(report.passed, name)
        }
        XCTAssertNoThrow(try Verifier.verify(FixturePaths.fixture("valid/tiny-mixtral")))
    }

    /// One shard alone lacks the other shards' tensors, so only the format rules apply to it.
    func testSingleShardOfAShardedModelSkipsModelChecks() {
        let report = Verifier.check(FixturePaths.fixture("valid/tiny-mixtral/model-00002-of-00002.safetensors"), scan: false)
        XCTAssertTrue(report.passed)
        XCTAssertEqual(report.notes, ["one shard of a sharded model: model checks skipped (verify the folder)"])
    }

    func testDescribesTheModel() {
        let report = Verifier.check(FixturePaths.fixture("valid/tiny-mixtral"), scan: false)
        XCTAssertEqual(report.shards, ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"])
        XCTAssertEqual(report.modelType, "mixtral")
        XCTAssertEqual(report.moeLayerCount, 2)
        XCTAssertEqual(report.maxExperts, 4)
        XCTAssertEqual(report.tensorCount, 2 * (7 + 12) + 3)
        XCTAssertNil(report.scannedTensors)
    }

    /// The scan file stores F32/F16/BF16/F64 values at odd offsets (a 1-byte tensor first), so this also
    /// checks that reading never assumes alignment.
    func testScanCountsNonFiniteValuesPerTensor() {
        let path = FixturePaths.fixture("scan/non-finite.safetensors")
        XCTAssertTrue(Verifier.check(path, scan: false).passed)
        let report = Verifier.check(path, scan: true)
        XCTAssertEqual(report.scannedTensors, 5)
        XCTAssertEqual(report.nonFinite, [
            NonFiniteCount(tensor: "weights.f32", shard: "non-finite.safetensors", nan: 1, positiveInfinity: 1, negativeInfinity: 1),
            NonFiniteCount(tensor: "weights.f16", shard: "non-finite.safetensors", nan: 1, positiveInfinity: 0, negativeInfinity: 1),
            NonFiniteCount(tensor: "weights.bf16", shard: "non-finite.safetensors", nan: 1, positiveInfinity: 0, negativeInfinity: 0),
            NonFiniteCount(tensor: "weights.f64", shard: "non-finite.safetensors", nan: 0, positiveInfinity: 1, negativeInfinity: 0),
        ])
        XCTAssertEqual(report.problems.first?.code, .invalidData)
        XCTAssertEqual(report.problems.first?.description, "\(path): tensor 'weights.f32': has non-finite values: 1 NaN, 1 +Inf, 1 -Inf")
    }

    /// transformers' save_pretrained wrote this index: its total_size is the sum of the tensors' bytes.
    func testTotalSizeWrittenByTransformersAgrees() {
        let report = Verifier.check(FixturePaths.fixture("models/mixtral-bf16-sharded"), scan: false)
        XCTAssertTrue(report.passed)
        XCTAssertEqual(report.warnings.map(\.description), [])
    }

    /// Loaders never read total_size, so a wrong one is reported and the model still passes.
    func testTotalSizeMismatchIsAWarning() throws {
        let folder = try copyOfTinyMixtral { index in index.set("metadata", .object([("total_size", .int(2600))])) }
        let report = Verifier.check(folder, scan: false)
        XCTAssertTrue(report.passed)
        XCTAssertEqual(report.warnings.map(\.description), [
            "\(folder)/model.safetensors.index.json: metadata.total_size is 2600 but the shards' tensors hold 2512 bytes (+88)",
        ])
        XCTAssertTrue(report.text.hasPrefix("\(folder): OK (1 warning)"), report.text)

        let run = try CommandRunner.run(["verify", folder, "--json"])
        XCTAssertEqual(run.status, 0)
        XCTAssertEqual(run.stderrLines.map(String.init), ["moe-slim: warning: " + report.warnings[0].description])
        let json = try JSONParser.parse(Array(run.stdout.utf8))
        XCTAssertEqual(json["ok"], .bool(true))
        XCTAssertEqual(json["warnings"]?.arrayValue?.first?["code"], .string("invalidIndex"))
        XCTAssertNil(json["warnings"]?.arrayValue?.first?["exit_code"])
    }

    func testTotalSizeThatIsNotAByteCountIsAWarning() throws {
        let folder = try copyOfTinyMixtral { index in index.set("metadata", .object([("total_size", .string("2512"))])) }
        XCTAssertEqual(Verifier.check(folder, scan: false).warnings.map(\.message), ["metadata.total_size is \"2512\", not a byte count"])
    }

    /// The Hugging Face cache layout: snapshots/<revision>/ holds links to ../../blobs/<hash>.
    func testShardsLinkedOutsideTheFolderAreANote() throws {
        let cache = LoRAFixtures.temporaryFolder()
        let blobs = cache + "/blobs", snapshot = cache + "/snapshots/abc123"
        try FileManager.default.createDirectory(atPath: blobs, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: snapshot, withIntermediateDirectories: true)
        let source = FixturePaths.fixture("valid/tiny-mixtral")
        for name in try FileManager.default.contentsOfDirectory(atPath: source) {
            let hash = "blob-" + name
            try FileManager.default.copyItem(atPath: source + "/" + name, toPath: blobs + "/" + hash)
            try FileManager.default.createSymbolicLink(atPath: snapshot + "/" + name, withDestinationPath: "../../blobs/" + hash)
        }
        let report = Verifier.check(snapshot, scan: true)
        XCTAssertTrue(report.passed, report.text)
        XCTAssertEqual(report.notes, [
            "shards model-00001-of-00002.safetensors, model-00002-of-00002.safetensors are links to files outside the model folder, in \(FileSystem.canonical(blobs))",
        ])
        let single = Verifier.check(snapshot + "/model-00002-of-00002.safetensors", scan: false)
        XCTAssertEqual(single.notes.first, "shard model-00002-of-00002.safetensors is a link to a file outside the model folder, in \(FileSystem.canonical(blobs))")
    }

    func testLinksInsideTheFolderAreNotMentioned() throws {
        let folder = try copyOfTinyMixtral { _ in }
        let shard = folder + "/model-00001-of-00002.safetensors"
        try FileManager.default.moveItem(atPath: shard, toPath: folder + "/.data")
        try FileManager.default.createSymbolicLink(atPath: shard, withDestinationPath: ".data")
        let report = Verifier.check(folder, scan: false)
        XCTAssertTrue(report.passed, report.text)
        XCTAssertEqual(report.notes, [])
    }

    func testMissingPathIsAnIOError() {
        let report = Verifier.check(FixturePaths.fixture("valid/does-not-exist"), scan: false)
        XCTAssertEqual(report.problems.map(\.code), [.io])
        XCTAssertEqual(report.problems.first?.code.exitCode, 74)
    }

    func testFolderWithoutModelIsAnIOError() {
        let problems = Verifier.check(FixturePaths.fixture("scan"), scan: false).problems
        XCTAssertEqual(problems.map(\.description), ["\(FixturePaths.fixture("scan")): folder has neither model.safetensors.index.json nor model.safetensors"])
        XCTAssertEqual(problems.first?.code.exitCode, 74)
    }

    func testCommandExitStatusAndJSON() throws {
        let ok = try CommandRunner.run(["verify", FixturePaths.fixture("valid/tiny-mixtral"), "--scan"])
        XCTAssertEqual(ok.status, 0)
        XCTAssertEqual(ok.stderr, "")
        XCTAssertTrue(ok.stdout.hasPrefix(FixturePaths.fixture("valid/tiny-mixtral") + ": OK"), ok.stdout)

        let scan = try CommandRunner.run(["verify", FixturePaths.fixture("scan/non-finite.safetensors"), "--scan", "--json"])
        XCTAssertEqual(scan.status, 65)
        XCTAssertEqual(scan.stderrLines.count, 4)
        let json = try JSONParser.parse(Array(scan.stdout.utf8))
        XCTAssertEqual(json["ok"], .bool(false))
        XCTAssertEqual(json["scanned_tensors"], .int(5))
        XCTAssertEqual(json["non_finite"]?.arrayValue?.count, 4)
        XCTAssertEqual(json["problems"]?.arrayValue?.first?["code"], .string("invalidData"))
    }

    /// valid/tiny-mixtral copied to a temporary folder with its index edited.
    private func copyOfTinyMixtral(editing edit: (inout JSONValue) -> Void) throws -> String {
        let folder = LoRAFixtures.temporaryFolder() + "/tiny-mixtral"
        try FileManager.default.copyItem(atPath: FixturePaths.fixture("valid/tiny-mixtral"), toPath: folder)
        let indexPath = folder + "/model.safetensors.index.json"
        var index = try JSONParser.parse(Array(Data(contentsOf: URL(fileURLWithPath: indexPath))))
        edit(&index)
        try Data(index.serialized().utf8).write(to: URL(fileURLWithPath: indexPath))
        return folder
    }
}
