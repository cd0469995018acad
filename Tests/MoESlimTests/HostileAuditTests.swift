import XCTest
@testable import MoESlimText

/// Cases found by the issue-14 audit that the hostile corpora did not cover: tokenizer.json split patterns
/// that crashed the release binary (integer overflow traps, stack overflow in the recursive regex parser and
/// matcher) or ran for ages (catastrophic backtracking, a quadratic literal search). Each tokenizer is the tiny
/// model's with its pre_tokenizer replaced, made at test time; each case runs the built tool with a deadline
/// and checks the exact error and exit status (formats/tokenizer.md, "Limits").
final class HostileAuditTests: XCTestCase {
    private var scratch = ""

    override func setUpWithError() throws {
        scratch = try Fixtures.scratch()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: scratch)
    }

    // MARK: - Patterns refused when the tokenizer is loaded

    /// Oniguruma refuses repeat counts over 100,000; the parser's Int used to overflow and trap (exit 132).
    func testRepeatCountPastIntIsRefused() throws {
        let tokenizer = try splitTokenizer(regex: "a{99999999999999999999}")
        try expect(["tokenize", "--tokenizer", tokenizer, try data("a\n")], 65,
                   "\(tokenizer): pre_tokenizer Split: regex \"a{99999999999999999999}\": too big number for repeat range (the limit is 100000) at position 1")
    }

    /// `{3,2}` is an error in Oniguruma; it used to be accepted as a repetition that never matches.
    func testRepeatRangeUpsideDownIsRefused() throws {
        let tokenizer = try splitTokenizer(regex: "a{3,2}")
        try expect(["tokenize", "--tokenizer", tokenizer, try data("a\n")], 65,
                   "\(tokenizer): pre_tokenizer Split: regex \"a{3,2}\": upper bound smaller than lower bound in repeat range at position 1")
    }

    /// A braced hex escape of many digits overflowed UInt32 and trapped (exit 132).
    func testHexEscapePastUnicodeIsRefused() throws {
        let tokenizer = try splitTokenizer(regex: "\\x{FFFFFFFFFFFF}")
        try expect(["tokenize", "--tokenizer", tokenizer, try data("a\n")], 65,
                   "\(tokenizer): pre_tokenizer Split: regex \"\\\\x{FFFFFFFFFFFF}\": too big code point in hex escape at position 9")
    }

    /// 200,000 nested groups overflowed the recursive parser's stack (exit 139).
    func testDeeplyNestedGroupsAreRefused() throws {
        let pattern = String(repeating: "(", count: 200_000) + "a" + String(repeating: ")", count: 200_000)
        let tokenizer = try splitTokenizer(regex: pattern)
        try expect(["tokenize", "--tokenizer", tokenizer, try data("a\n")], 65,
                   "\(tokenizer): pre_tokenizer Split: regex \"\(pattern)\": groups nested deeper than 256 at position 257")
    }

    // MARK: - Patterns refused on the text they run on

    /// `(a+)+$` on 30 letters and a `b` takes 2^30 backtracking steps; it ran for minutes.
    func testCatastrophicBacktrackingStops() throws {
        let tokenizer = try splitTokenizer(regex: "(a+)+$")
        let text = try data(String(repeating: "a", count: 30) + "b\n")
        let run = try expect(["tokenize", "--tokenizer", tokenizer, text], 65,
                             "\(text): line 1: tokenizer regex \"(a+)+$\" backtracks more than 10000000 + 64 steps per character on this text")
        XCTAssertEqual(run.stdout, "")
    }

    /// A repeated group recursed once per repetition: 20,000 `ab`s overflowed the stack (exit 139).
    func testRepeatedGroupOverLongTextStopsBeforeTheStackEnds() throws {
        let tokenizer = try splitTokenizer(regex: "(?:ab|a)*c")
        let text = try data(String(repeating: "ab", count: 20_000) + "\n")
        try expect(["tokenize", "--tokenizer", tokenizer, text], 65,
                   "\(text): line 1: tokenizer regex \"(?:ab|a)*c\" nests deeper than 1000 on this text")
    }

    /// --skip-bad treats such a record like any other malformed one: counted and skipped, the rest tokenized.
    func testBacktrackingRecordIsSkippedWithSkipBad() throws {
        let tokenizer = try splitTokenizer(regex: "(a+)+$")
        let text = try data(String(repeating: "a", count: 30) + "b\naaa\n")
        let run = try MeasuredRun.run(["tokenize", "--tokenizer", tokenizer, text, "--skip-bad"])
        XCTAssertFalse(run.timedOut)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout.split(separator: "\n").count, 1)
    }

    /// Patterns real tokenizers use still match long texts: a repeated class neither recurses nor runs out of
    /// steps on two million letters.
    func testRepeatedClassOverLongTextStillWorks() throws {
        let tokenizer = try splitTokenizer(regex: "\\s+(?!\\S)|\\s+|\\p{L}+")
        let text = try data(String(repeating: "a", count: 2_000_000) + "\n")
        let run = try MeasuredRun.run(["tokenize", "--tokenizer", tokenizer, text])
        XCTAssertFalse(run.timedOut)
        XCTAssertEqual(run.status, 0, run.stderr)
    }

    /// A literal split pattern of 100,000 `a`s and a `b` over two million `a`s compared the needle at every
    /// position (2·10^11 byte compares); it is now linear.
    func testLongLiteralPatternIsLinear() throws {
        let tokenizer = try tokenizerWith(preTokenizer: [
            "type": "Split", "pattern": ["String": String(repeating: "a", count: 100_000) + "b"],
            "behavior": "Isolated", "invert": false,
        ])
        let text = try data(String(repeating: "a", count: 2_000_000) + "\n")
        let run = try MeasuredRun.run(["tokenize", "--tokenizer", tokenizer, text], deadline: 30)
        XCTAssertFalse(run.timedOut, "the literal search is quadratic")
        XCTAssertEqual(run.status, 0, run.stderr)
    }

    /// The linear search finds what the naive one found: leftmost, non-overlapping, restarting after a match.
    func testLiteralMatchesAreLeftmostAndNonOverlapping() {
        let text = Array("aaaaab aab ab".utf8)
        XCTAssertEqual(SplitPattern.literalMatches(of: Array("aab".utf8), in: text), [3..<6, 7..<10])
        XCTAssertEqual(SplitPattern.literalMatches(of: Array("aa".utf8), in: Array("aaaaa".utf8)), [0..<2, 2..<4])
        XCTAssertEqual(SplitPattern.literalMatches(of: Array("x".utf8), in: text), [])
        XCTAssertEqual(SplitPattern.literalMatches(of: Array("abab".utf8), in: Array("abaabab".utf8)), [3..<7])
    }

    /// A Replace normalizer of "a" by 10,000 "a"s turned a 100 kB record into 1 GB before the pre-tokenizer
    /// saw it, and chained Replaces without end: killed after 30 s. Normalizing may grow a record to 4 times its
    /// size plus 16 MiB.
    func testNormalizerThatMultipliesTheTextIsStopped() throws {
        let tokenizer = try tokenizerWith(normalizer: [
            "type": "Replace", "pattern": ["String": "a"], "content": String(repeating: "a", count: 10_000),
        ])
        let text = try data(String(repeating: "a", count: 100_000) + "\n")
        try expect(["tokenize", "--tokenizer", tokenizer, text], 65,
                   "\(text): line 1: the tokenizer's normalizers would make this text larger than 17177216 bytes (4 times the record plus 16 MiB)")
    }

    // MARK: - Counts files

    /// Two shards claiming 2^62 tokens each pass every rule on their own; adding them trapped (exit 132).
    func testCountsWhoseTokensOverflowWhenMergedAreRefused() throws {
        let shards = try countsShards { counts, layer in
            counts["tokens"] = 1 << 62
            layer["tokens"] = 1 << 62
            // Each below the 2^62 a stated sum may reach, together tokens × top-2.
            layer["hard"] = [1 << 61, 1 << 61, 1 << 61, 1 << 61]
        }
        try expect(["counts", "merge", shards[0], shards[1], "-o", scratch + "/merged.json"], 65,
                   "\(shards[1]): adding its counts to the earlier files' overflows the sums; the counts are not real")
    }

    /// Exact sums are any non-negative integers that fit Int128; two at the top trapped when added (exit 132).
    func testCountsWhoseExactSumsOverflowWhenMergedAreRefused() throws {
        let shards = try countsShards { _, layer in
            var exact = layer["exact"] as! [String: Any]
            exact["entropy"] = String(Int128.max)
            layer["exact"] = exact
        }
        try expect(["counts", "merge", shards[0], shards[1], "-o", scratch + "/merged.json"], 65,
                   "\(shards[1]): adding its counts to the earlier files' overflows the sums; the counts are not real")
    }

    /// A sum stated without its exact units is converted to them; one past 2^62 trapped the conversion.
    func testCountsSumBeyondExactRangeIsRefused() throws {
        let shards = try countsShards { _, layer in
            layer["exact"] = nil
            var saliency = layer["saliency"] as! [Double]
            saliency[0] = 1e30
            layer["saliency"] = saliency
        }
        try expect(["counts", "show", shards[0]], 65,
                   "\(shards[0]): layers[0].saliency[0] is 1e+30, beyond the 2^62 that exact sums can hold")
    }

    /// Expert weights at f16's largest value: each token's saliency term (gate weight × output norm) is far past
    /// what the exact sums hold; converting it trapped calibrate. Now the layer is named and nothing is written.
    func testExpertOutputsTooLargeToCountAreRefused() throws {
        let model = scratch + "/huge-experts"
        try FileManager.default.copyItem(atPath: FixturePaths.fixture("hostile/configs/control"), toPath: model)
        try Self.fillTensors(in: model + "/model.safetensors", containing: "block_sparse_moe.experts.", with: [0xFF, 0x7B])
        let counts = scratch + "/huge.json"
        let run = try MeasuredRun.run(["calibrate", model, "--data", FixturePaths.fixture("hostile/configs/tokens.jsonl"), "-o", counts], deadline: 30)
        XCTAssertEqual(run.status, 65, run.stderr)
        XCTAssertTrue(run.stderr.hasPrefix("moe-slim: error: \(model): MoE layer 0: an expert's output has norm "), run.stderr)
        XCTAssertTrue(run.stderr.hasSuffix("not finite or beyond 2^40; the expert weights are broken\n"), run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: counts))
    }

    /// --force never takes an entry it cannot examine for part of a checkpoint: a file whose name is not UTF-8
    /// survives, and the command refuses.
    func testForceKeepsAFileWhoseNameIsNotUTF8() throws {
        let output = scratch + "/out"
        let first = try MeasuredRun.run(["prune", FixturePaths.fixture("hostile/configs/control"), output, "--plan", try keepPlan()])
        XCTAssertEqual(first.status, 0, first.stderr)
        let odd = Array((output + "/notes-").utf8) + [0xFF, 0x00]
        let fd = odd.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY, 0o644) } }
        XCTAssertGreaterThanOrEqual(fd, 0)
        close(fd)
        let again = try MeasuredRun.run(["prune", FixturePaths.fixture("hostile/configs/control"), output, "--plan", try keepPlan(), "--force"])
        XCTAssertEqual(again.status, 73, again.stderr)
        XCTAssertTrue(again.stderr.contains("which is not part of a checkpoint; refusing to replace the folder even with --force"), again.stderr)
        let survived = odd.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { access($0.baseAddress!, F_OK) } }
        XCTAssertEqual(survived, 0)
    }

    private func keepPlan() throws -> String {
        let path = scratch + "/keep.json"
        try #"{"layers": {"0": [0, 1]}}"#.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Overwrites every element of the tensors whose names contain `part` with one element's bytes.
    private static func fillTensors(in path: String, containing part: String, with element: [UInt8]) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let length = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as! [String: Any]
        for (name, info) in header where name.contains(part) {
            let offsets = (info as! [String: Any])["data_offsets"] as! [Int]
            for i in stride(from: 8 + length + offsets[0], to: 8 + length + offsets[1], by: element.count) {
                bytes.replaceSubrange(i..<(i + element.count), with: element)
            }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    // MARK: - LoRA adapters

    /// lora_alpha 1e308 makes a scaling no Float32 holds: merge-lora published a checkpoint of ±Inf weights with
    /// exit 0 (PEFT does the same; verify --scan then refuses the output).
    func testLoraScalingBeyondFloat32IsRefused() throws {
        let adapter = scratch + "/adapter"
        try FileManager.default.copyItem(atPath: FixturePaths.fixture("lora/layers/adapter"), toPath: adapter)
        var config = try Fixtures.json(adapter + "/adapter_config.json")
        config["lora_alpha"] = 1e308
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: adapter + "/adapter_config.json"))
        let out = scratch + "/merged"
        try expect(["merge-lora", FixturePaths.fixture("lora/bases/mixtral-f32"), out, "--adapter", adapter], 65,
                   "\(adapter): tensor 'base_model.model.model.layers.1.self_attn.o_proj.lora_A.weight': 'model.layers.1.self_attn.o_proj' has scaling 2.5e+307 (lora_alpha, alpha_pattern over r), beyond Float32: every merged weight would be infinite")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    // MARK: - Output paths

    /// An output path through a folder that does not exist and back out with `..` made the search for the
    /// deepest existing folder walk up forever (removing a `..` component adds one): prune hung.
    func testOutputThroughMissingFolderAndBackDoesNotHang() throws {
        let model = scratch + "/m1"
        try FileManager.default.copyItem(atPath: FixturePaths.fixture("hostile/configs/control"), toPath: model)
        let out = model + "/sub/../../m1"
        try expect(["prune", model, out, "--plan", FixturePaths.fixture("hostile/configs/plan.json"), "--force"], 64,
                   "\(out): the output would write over or inside the input \(model)")
    }

    /// `-o /dev/stdout --force` with stdout redirected to a file replaced the /dev/stdout link with the counts
    /// (stat saw the regular file at the end of /proc/self/fd/1). A link made here stands in for /dev/stdout.
    func testOutputLinkIntoProcIsNotReplaced() throws {
        let link = scratch + "/stdout"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/proc/self/fd/1")
        try expect(["calibrate", FixturePaths.fixture("hostile/configs/control"), "--data",
                    FixturePaths.fixture("hostile/configs/tokens.jsonl"), "-o", link, "--force"], 73,
                   "\(link): is a link to a process's open file, not a regular file; refusing to replace it even with --force")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link), "/proc/self/fd/1")
    }

    // MARK: - Helpers

    /// Counts of the control model as shards 0/2 and 1/2 (so merging them is allowed), edited by `edit`
    /// (the whole file, its first layer).
    private func countsShards(_ edit: (inout [String: Any], inout [String: Any]) -> Void) throws -> [String] {
        let made = scratch + "/counts.json"
        let run = try MeasuredRun.run(["calibrate", FixturePaths.fixture("hostile/configs/control"),
                                       "--data", FixturePaths.fixture("hostile/configs/tokens.jsonl"), "-o", made])
        XCTAssertEqual(run.status, 0, run.stderr)
        var counts = try Fixtures.json(made)
        var layers = counts["layers"] as! [[String: Any]]
        edit(&counts, &layers[0])
        counts["layers"] = layers
        return try (0..<2).map { i in
            var shard = counts
            var settings = shard["settings"] as! [String: Any]
            settings["shard"] = "\(i)/2"
            shard["settings"] = settings
            let path = scratch + "/counts-\(i).json"
            try JSONSerialization.data(withJSONObject: shard).write(to: URL(fileURLWithPath: path))
            return path
        }
    }

    private func splitTokenizer(regex: String) throws -> String {
        try tokenizerWith(preTokenizer: [
            "type": "Sequence", "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": regex], "behavior": "Isolated", "invert": false],
                ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false],
            ],
        ])
    }

    /// The tiny model's tokenizer with another pre_tokenizer or normalizer.
    private func tokenizerWith(preTokenizer: [String: Any]? = nil, normalizer: [String: Any]? = nil) throws -> String {
        var json = try Fixtures.json(FixturePaths.fixture("tiny-mixtral/tokenizer.json"))
        if let preTokenizer { json["pre_tokenizer"] = preTokenizer }
        if let normalizer { json["normalizer"] = normalizer }
        let path = scratch + "/tokenizer-\(UUID().uuidString).json"
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        return path
    }

    private func data(_ text: String) throws -> String {
        let path = scratch + "/data-\(UUID().uuidString).txt"
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    @discardableResult
    private func expect(_ arguments: [String], _ status: Int32, _ message: String, file: StaticString = #filePath, line: UInt = #line) throws -> MeasuredRun.Outcome {
        let run = try MeasuredRun.run(arguments, deadline: 30)
        XCTAssertFalse(run.timedOut, "moe-slim \(arguments.prefix(3).joined(separator: " ")) hung", file: file, line: line)
        XCTAssertEqual(run.status, status, String(run.stderr.prefix(500)), file: file, line: line)
        XCTAssertEqual(run.stderr, "moe-slim: error: \(message)\n", file: file, line: line)
        return run
    }
}
