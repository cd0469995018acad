import Foundation
import XCTest

/// Models where people keep them, through the built executable: a Hugging Face cache repo folder resolves
/// refs/main to its snapshot, `org/name` is looked up in the local cache (HF_HUB_CACHE, else HF_HOME/hub), and
/// folders moe-slim cannot read (pickle weights only, a SentencePiece tokenizer.model) say what to do.
final class ModelLocationTests: XCTestCase {
    let tiny = Fixtures.root.appendingPathComponent("tiny-mixtral").path
    let commit = "0123456789abcdef0123456789abcdef01234567"

    /// hub/models--acme--tiny with one snapshot holding the tiny model, and refs/main naming it.
    private func cache() throws -> (hub: String, repo: String) {
        let hub = try Fixtures.scratch() + "/hub"
        let repo = hub + "/models--acme--tiny"
        let snapshot = repo + "/snapshots/" + commit
        try FileManager.default.createDirectory(atPath: snapshot, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: repo + "/refs", withIntermediateDirectories: true)
        for name in ["config.json", "model.safetensors", "tokenizer.json"] {
            try FileManager.default.createSymbolicLink(atPath: snapshot + "/" + name, withDestinationPath: tiny + "/" + name)
        }
        try (commit + "\n").write(toFile: repo + "/refs/main", atomically: true, encoding: .utf8)
        return (hub, repo)
    }

    func testCacheRepoFolderAndRepoIdReadTheSnapshotOfRefsMain() throws {
        let (hub, repo) = try cache()
        let direct = try CommandRunner.run(["inspect", tiny])
        let viaFolder = try CommandRunner.run(["inspect", repo])
        XCTAssertEqual(viaFolder.status, 0, viaFolder.stderr)
        let snapshot = repo + "/snapshots/" + commit
        XCTAssertEqual(viaFolder.stdout, direct.stdout.replacingOccurrences(of: tiny, with: snapshot))
        let viaId = try CommandRunner.run(["inspect", "acme/tiny"], environment: ["HF_HUB_CACHE": hub])
        XCTAssertEqual(viaId.stdout, viaFolder.stdout, viaId.stderr)
        let viaHome = try CommandRunner.run(["inspect", "acme/tiny"], environment: ["HF_HUB_CACHE": "", "HF_HOME": (hub as NSString).deletingLastPathComponent])
        XCTAssertEqual(viaHome.stdout, viaFolder.stdout, viaHome.stderr)
    }

    func testARepoIdNotInTheCacheSaysWhereItLookedAndNeverDownloads() throws {
        let (hub, _) = try cache()
        let r = try CommandRunner.run(["inspect", "acme/other"], environment: ["HF_HUB_CACHE": hub])
        XCTAssertEqual(r.status, 74)
        XCTAssertEqual(r.stderr, "moe-slim: error: acme/other: no such file or folder, and no 'acme/other' in the Hugging Face cache at \(hub) (moe-slim never downloads; `hf download acme/other` does)\n")
    }

    func testRefsMainMustBeACommitHashOfAnExistingSnapshot() throws {
        let (_, repo) = try cache()
        try "../../../etc\n".write(toFile: repo + "/refs/main", atomically: true, encoding: .utf8)
        let escape = try CommandRunner.run(["inspect", repo])
        XCTAssertEqual(escape.status, 65)
        XCTAssertEqual(escape.stderr, "moe-slim: error: \(repo)/refs/main: is not a commit hash (40 or 64 lowercase hex digits)\n")
        try (String(repeating: "a", count: 40)).write(toFile: repo + "/refs/main", atomically: true, encoding: .utf8)
        let missing = try CommandRunner.run(["inspect", repo])
        XCTAssertEqual(missing.stderr, "moe-slim: error: \(repo): refs/main names snapshot \(String(repeating: "a", count: 40)), which is not in snapshots/ (an interrupted download?)\n")
        try String(repeating: "a", count: 100_000).write(toFile: repo + "/refs/main", atomically: true, encoding: .utf8)
        let long = try CommandRunner.run(["inspect", repo])
        XCTAssertEqual(long.stderr, "moe-slim: error: \(repo)/refs/main: is not a commit hash (40 or 64 lowercase hex digits)\n")
    }

    func testPickleOnlyFolderSaysHowToWriteSafetensors() throws {
        let dir = try Fixtures.scratch() + "/pt"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dir + "/pytorch_model.bin", contents: Data())
        FileManager.default.createFile(atPath: dir + "/config.json", contents: Data("{}".utf8))
        let r = try CommandRunner.run(["inspect", dir])
        XCTAssertEqual(r.status, 74)
        XCTAssertEqual(r.stderr, """
            moe-slim: error: \(dir): has PyTorch pickle weights (pytorch_model.bin) but no model.safetensors or model.safetensors.index.json; \
            moe-slim reads safetensors only. Write them with transformers (it loads the whole model): python -c "from transformers import \
            AutoModelForCausalLM as M, AutoTokenizer as T; p, o = '\(dir)', '\(dir)-safetensors'; M.from_pretrained(p, dtype='auto').save_pretrained(o); \
            T.from_pretrained(p).save_pretrained(o)"

            """)
    }

    func testSentencePieceTokenizerSaysHowToWriteTokenizerJSON() throws {
        let dir = try Fixtures.scratch() + "/sp"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for name in ["config.json", "model.safetensors"] {
            try FileManager.default.createSymbolicLink(atPath: dir + "/" + name, withDestinationPath: tiny + "/" + name)
        }
        FileManager.default.createFile(atPath: dir + "/tokenizer.model", contents: Data())
        let fix = "is a SentencePiece tokenizer.model; moe-slim reads tokenizer.json. Write one beside it with transformers (needs sentencepiece): "
            + "python -c \"from transformers import AutoTokenizer; AutoTokenizer.from_pretrained('\(dir)').save_pretrained('\(dir)')\""
        let calib = tiny + "/calib.txt"
        let calibrate = try CommandRunner.run(["calibrate", dir, "--data", calib, "-o", dir + "/../c.json"])
        XCTAssertEqual(calibrate.status, 65)
        XCTAssertTrue(calibrate.stderr.hasSuffix("moe-slim: error: \(calib): line 1: text record needs a tokenizer (--tokenizer); \(dir)/tokenizer.model: \(fix)\n"), calibrate.stderr)
        let tokenize = try CommandRunner.run(["tokenize", "--tokenizer", dir + "/tokenizer.model", calib])
        XCTAssertEqual(tokenize.status, 65)
        XCTAssertEqual(tokenize.stderr, "moe-slim: error: \(dir)/tokenizer.model: \(fix)\n")
    }
}
