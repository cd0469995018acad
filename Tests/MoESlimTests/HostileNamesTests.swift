import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimSlimming

/// fixtures/hostile/names (written by fixtures/gen_hostile_names.py): names compared as bytes, integers read
/// as the reference reads them, names echoed escaped, counts files and adapter configs refused with the key
/// named. Each case has its exact outcome; paths are absolute under fixtures/.
final class HostileNamesTests: XCTestCase {
    private static func path(_ relative: String) -> String { FixturePaths.fixture("hostile/names/" + relative) }

    /// The first problem verify reports, as its full description.
    private func firstProblem(_ relative: String) -> String? {
        Verifier.check(Self.path(relative), scan: false).problems.first?.description
    }

    // MARK: safetensors headers

    static let headerErrors: [String: String] = [
        "escaped-duplicate.safetensors": "header is not valid JSON: invalid JSON at byte 53: duplicate key 'a'",
        "minus-zero-dim.safetensors": "tensor 'a': shape dimension -0 is not a non-negative integer",
        "exponent-dim.safetensors": "tensor 'a': shape dimension 1e0 is not a non-negative integer",
        "negative-fraction-dim.safetensors": "tensor 'a': shape dimension -1.5 is not a non-negative integer",
        "plus-dim.safetensors": "header is not valid JSON: invalid JSON at byte 28: unexpected character",
        "leading-zero-dim.safetensors": "header is not valid JSON: invalid JSON at byte 29: expected ',' or ']'",
        "minus-zero-offset.safetensors": "tensor 'a': data_offsets entry is not a non-negative integer",
        "exponent-offset.safetensors": "tensor 'a': data_offsets entry is not a non-negative integer",
        "fraction-offset.safetensors": "tensor 'a': data_offsets entry is not a non-negative integer",
        "control-name.safetensors": "tensor 'a\\u{1B}[31m\\u{A}b\\u{202E}': shape [3] of F32 needs 12 bytes but data_offsets span 8",
    ]

    func testHeadersGiveTheirExactError() {
        for (name, message) in Self.headerErrors.sorted(by: { $0.key < $1.key }) {
            XCTAssertEqual(firstProblem(name), Self.path(name) + ": " + message, name)
        }
    }

    /// verify's report and its error line carry the name escaped, each on one line.
    func testVerifyOutputIsEscaped() throws {
        let path = Self.path("control-name.safetensors")
        let run = try CommandRunner.run(["verify", path])
        let message = path + ": " + Self.headerErrors["control-name.safetensors"]!
        XCTAssertEqual(run.status, 65)
        XCTAssertEqual(run.stdout, "\(path): FAILED (1 problem)\n  problem [invalidHeader]: \(message)\n")
        XCTAssertEqual(run.stderr, "moe-slim: error: \(message)\n")
    }

    /// The reference keeps both: serde_json's map keys are compared as bytes.
    func testCanonicallyEquivalentTensorNamesAreTwoTensors() throws {
        let file = try SafeTensorsFile(path: Self.path("equivalent-names.safetensors"))
        XCTAssertEqual(file.header.count, 2)
        XCTAssertEqual(file.header.tensor(named: "caf\u{E9}")?.begin, 0)
        XCTAssertEqual(file.header.tensor(named: "cafe\u{301}")?.begin, 4)
        XCTAssertNil(firstProblem("equivalent-names.safetensors"))
    }

    // MARK: index files

    /// Two shard names that are canonically equivalent are two files, each holding its own tensor.
    func testCanonicallyEquivalentShardNamesAreTwoShards() throws {
        let checkpoint = try Checkpoint(path: Self.path("index-nfc-nfd-shards"))
        // Compared as bytes: XCTAssertEqual on Strings would call the two spellings equal.
        XCTAssertEqual(checkpoint.shardNames.map { Array($0.utf8) }, [Array("cafe\u{301}.safetensors".utf8), Array("caf\u{E9}.safetensors".utf8)])
        XCTAssertEqual(checkpoint.tensorCount, 2)
        XCTAssertNil(firstProblem("index-nfc-nfd-shards"))
    }

    func testCanonicallyEquivalentTensorNamesInAnIndexAreTwoTensors() throws {
        let checkpoint = try Checkpoint(path: Self.path("index-equivalent-tensor-names"))
        XCTAssertEqual(checkpoint.tensorCount, 2)
        XCTAssertEqual(checkpoint.location(of: "caf\u{E9}")?.shard, 0)
        XCTAssertEqual(checkpoint.location(of: "cafe\u{301}")?.shard, 1)
        XCTAssertNil(firstProblem("index-equivalent-tensor-names"))
    }

    func testSlashBeforeACombiningMarkIsASlash() {
        let index = Self.path("index-slash-combining/model.safetensors.index.json")
        XCTAssertEqual(firstProblem("index-slash-combining"),
                       index + ": weight_map names shard 'sub/\u{301}model.safetensors', which is not a .safetensors file inside the model folder")
    }

    func testControlCharactersInAShardNameAreEscaped() throws {
        let index = Self.path("index-control-shard/model.safetensors.index.json")
        let message = index + ": weight_map names shard 'a\\u{A}b.safetensors', which is missing"
        XCTAssertEqual(firstProblem("index-control-shard"), message)
        let run = try CommandRunner.run(["inspect", Self.path("index-control-shard")])
        XCTAssertEqual(run.status, 65)
        XCTAssertEqual(run.stderr, "moe-slim: error: \(message)\n")
    }

    /// Each helper disagrees with its Character-based namesake on these inputs.
    func testByteOperationsSeeBytesNotCharacters() {
        XCTAssertNotEqual(ByteName("caf\u{E9}"), ByteName("cafe\u{301}"))
        XCTAssertEqual(Set([ByteName("caf\u{E9}"), ByteName("cafe\u{301}")]).count, 2)
        XCTAssertTrue("cafe\u{301}".hasBytePrefix("cafe"))
        XCTAssertFalse("caf\u{E9}".hasBytePrefix("cafe"))
        XCTAssertFalse("e\u{301}".hasByteSuffix("\u{E9}"))
        XCTAssertTrue("x/\u{301}y".containsByte("/"))
        XCTAssertEqual("a.\u{301}b".byteSplit(".").map { Array($0.utf8) }, [Array("a".utf8), Array("\u{301}b".utf8)])
        XCTAssertEqual("model.layers.3.\u{301}mlp".indexAfter(prefix: "model.layers."), 3)
        for notIndex in ["model.layers.03.x", "model.layers.+3.x", "model.layers.3\u{301}.x", "model.layers.3"] {
            XCTAssertNil(notIndex.indexAfter(prefix: "model.layers."), notIndex)
        }
        XCTAssertEqual(Array("caf\u{E9}.w".replacingBytes("cafe\u{301}", with: "x").utf8), Array("caf\u{E9}.w".utf8))
        XCTAssertEqual("cafe\u{301}.w".replacingBytes("cafe\u{301}", with: "x"), "x.w")
    }

    func testEscapingLeavesOrdinaryTextAlone() {
        XCTAssertEqual(EscapedText.of("caf\u{E9} \\ 'x'"), "caf\u{E9} \\ 'x'")
        XCTAssertEqual(EscapedText.of("\u{7F}\u{85}\u{2066}\u{200F}\u{2028}"), "\\u{7F}\\u{85}\\u{2066}\\u{200F}\\u{2028}")
    }

    // MARK: counts files

    static let countsErrors: [String: String] = [
        "counts-fractional-hard.json": "layers[0].hard[0] is 1.5, not a whole number of tokens",
        "counts-negative-tokens.json": "tokens is -3, negative",
        "counts-negative-hard.json": "layers[0].hard[0] is -1, negative",
        "counts-infinite-soft.json": "layers[0].soft[0] is 1e999, not finite",
        "counts-nan.json": "not a counts file: invalid JSON at byte 212: unexpected character",
        "counts-hard-not-top-k.json": "layers[0].hard sums to 5, not a multiple of its 3 tokens",
        "counts-layer-out-of-range.json": "layers has layers:experts [0:4,7:4] but the fingerprint says [0:4,1:4]",
        "counts-bad-fingerprint.json": "fingerprint 'mixtral/E[0:4,1:4]' is not <model_type>/L<layers>/H<hidden>/V<vocab>/E[<layer>:<experts>,…]",
        "counts-more-sequences-than-tokens.json": "sequences is 4, more than tokens (3); every sequence has a token",
        "counts-short-list.json": "layers[0] has lists of different lengths (hard 4, soft 2, soft_softmax 4, saliency 4)",
        "counts-signed-exact.json": "layers[0].exact.soft[0] is not a non-negative integer in a string",
    ]

    func testCountsFilesGiveTheirExactError() throws {
        for (name, message) in Self.countsErrors.sorted(by: { $0.key < $1.key }) {
            XCTAssertThrowsError(try ExpertCounts.load(Self.path(name)), name) { error in
                XCTAssertEqual((error as? MoESlimError)?.code, .invalidCounts, name)
                XCTAssertEqual("\(error)", Self.path(name) + ": " + message, name)
            }
        }
        let run = try CommandRunner.run(["counts", "show", Self.path("counts-fractional-hard.json")])
        XCTAssertEqual(run.status, 65)
        XCTAssertEqual(run.stderr, "moe-slim: error: \(Self.path("counts-fractional-hard.json")): layers[0].hard[0] is 1.5, not a whole number of tokens\n")
    }

    /// Valid on its own, but the model routes every token to two experts.
    func testHardCountsMustBeTheModelsTopK() throws {
        let run = try CommandRunner.run(["prune", FixturePaths.fixture("valid/tiny-mixtral"), "--counts", Self.path("counts-top-1.json"), "--keep", "2", "--dry-run"])
        XCTAssertEqual(run.status, 65)
        XCTAssertEqual(run.stderr, "moe-slim: error: \(Self.path("counts-top-1.json")): layers[0].hard sums to 3, not tokens 3 × top-k 2 of the model\n")
    }

    func testCanonicallyEquivalentGroupNamesAreTwoGroups() throws {
        let counts = try ExpertCounts.load(Self.path("counts-equivalent-groups.json"))
        XCTAssertEqual(counts.groups?.count, 2)
        XCTAssertEqual(counts.groups?[ByteName("caf\u{E9}")]?.first?.hard, [1, 1, 0, 0])
        XCTAssertEqual(counts.groups?[ByteName("cafe\u{301}")]?.first?.hard, [1, 0, 1, 0])
        let written = try ExpertCounts(json: JSONParser.parse(Array(counts.encoded().utf8)), path: "written")
        XCTAssertEqual(written, counts)
    }

    private func merge(_ names: [String], _ extra: [String] = []) throws -> (CommandRunner.Result, String) {
        let output = try Fixtures.scratch() + "/merged.json"
        return (try CommandRunner.run(["counts", "merge"] + names.map(Self.path) + ["-o", output] + extra), output)
    }

    func testDisjointShardsMerge() throws {
        let (run, output) = try merge(["counts-shard-0of2.json", "counts-shard-1of2.json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stderr, "")
        let merged = try ExpertCounts.load(output)
        XCTAssertEqual(merged.tokens, 6)
        XCTAssertEqual(merged.settings["shards"], "0/2,1/2")
        XCTAssertEqual(merged.settings["compute"], "f32")
        XCTAssertNil(merged.settings["mismatched_settings"])
    }

    func testOverlappingInputsAreRefused() throws {
        let first = Self.path("counts-shard-0of2.json")
        let cases: [([String], String)] = [
            (["counts-shard-0of2.json", "counts-shard-0of2.json"],
             "\(first): is the same file as \(first); merging it twice would count its tokens twice"),
            (["counts-shard-0of2.json", "counts-shard-2of4.json"],
             "\(Self.path("counts-shard-2of4.json")): covers the same records of the same data as \(first) (shards 2/4 and 0/2); merging would count them twice"),
            (["counts-all-data.json", "counts-all-data-again.json"],
             "\(Self.path("counts-all-data-again.json")): covers the same records of the same data as \(Self.path("counts-all-data.json")) (all records, twice); merging would count them twice"),
            (["counts-all-data.json", "counts-shard-1of2.json"],
             "\(Self.path("counts-shard-1of2.json")): covers the same records of the same data as \(Self.path("counts-all-data.json")) (shard 1/2 and all records); merging would count them twice"),
        ]
        for (names, message) in cases {
            let (run, output) = try merge(names)
            XCTAssertEqual(run.status, 65, "\(names)")
            XCTAssertEqual(run.stderr, "moe-slim: error: \(message)\n", "\(names)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: output))
        }
    }

    func testMismatchedSettingsAreRefusedUnlessAllowedAndThenWarned() throws {
        let names = ["counts-shard-0of2.json", "counts-shard-1of2-bf16.json"]
        let difference = "compute is 'bf16' in \(Self.path(names[1])) but 'f32' in \(Self.path(names[0]))"
        let (refused, _) = try merge(names)
        XCTAssertEqual(refused.status, 65)
        XCTAssertEqual(refused.stderr, "moe-slim: error: counts were made with other settings: \(difference); pass --allow-mismatched-settings to add them anyway\n")
        let (allowed, output) = try merge(names, ["--allow-mismatched-settings"])
        XCTAssertEqual(allowed.status, 0)
        XCTAssertEqual(allowed.stderr, "moe-slim: warning: merging counts made with different settings: \(difference)\n")
        let merged = try ExpertCounts.load(output)
        XCTAssertEqual(merged.settings["mismatched_settings"], "compute")
        XCTAssertNil(merged.settings["compute"])
    }

    // MARK: adapters

    private func mergeLoRA(_ adapter: String) throws -> CommandRunner.Result {
        let output = try Fixtures.scratch() + "/out"
        let run = try CommandRunner.run(["merge-lora", LoRAFixtures.base("mixtral-f32"), output, "--adapter", Self.path(adapter)])
        XCTAssertFalse(FileManager.default.fileExists(atPath: output), adapter)
        return run
    }

    func testInvalidPatternsAreRefusedByName() throws {
        let cases = [
            "adapter-invalid-rank-pattern": "rank_pattern key 'mlp.experts.(gate_up_proj' is not a valid regular expression",
            "adapter-invalid-alpha-pattern": "alpha_pattern key 'gate[' is not a valid regular expression",
            "adapter-invalid-target-regex": "target_modules '.*(q_proj' is not a valid regular expression",
        ]
        for (adapter, message) in cases.sorted(by: { $0.key < $1.key }) {
            let run = try mergeLoRA(adapter)
            XCTAssertEqual(run.status, 65, adapter)
            XCTAssertEqual(run.stderr, "moe-slim: error: \(Self.path(adapter))/adapter_config.json: \(message)\n", adapter)
        }
    }

    /// (2 + 2⁶²) × 4 experts wraps to 8, the rows lora_A has: unchecked, the merge looked valid.
    func testRankTimesExpertsOverflowIsRefused() throws {
        let run = try mergeLoRA("adapter-huge-rank")
        XCTAssertEqual(run.status, 65)
        XCTAssertEqual(run.stderr, "moe-slim: error: \(Self.path("adapter-huge-rank")): 'model.layers.0.mlp.experts.gate_up_proj' has rank 4611686018427387906 by adapter_config.json (r, rank_pattern), and 4611686018427387906 × 4 experts overflows\n")
    }

    func testEveryCorpusEntryIsTested() throws {
        let present = Set(try FileManager.default.contentsOfDirectory(atPath: FixturePaths.fixture("hostile/names")))
        let tested = Set(Self.headerErrors.keys).union(Self.countsErrors.keys).union([
            "equivalent-names.safetensors", "index-nfc-nfd-shards", "index-equivalent-tensor-names", "index-slash-combining", "index-control-shard",
            "counts-top-1.json", "counts-equivalent-groups.json", "counts-shard-0of2.json", "counts-shard-1of2.json",
            "counts-shard-2of4.json", "counts-shard-1of2-bf16.json", "counts-all-data.json", "counts-all-data-again.json",
            "adapter-invalid-rank-pattern", "adapter-invalid-alpha-pattern", "adapter-invalid-target-regex", "adapter-huge-rank",
        ])
        XCTAssertEqual(present, tested)
    }
}
