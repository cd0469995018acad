import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import MoESlimText
#if canImport(Glibc)
import Glibc
#endif

/// Inputs that are not what they claim to be, or far larger: every file moe-slim reads must be a regular file
/// of sane size (formats/inputs.md), and a data record must not grow memory past --max-record-bytes whatever
/// the input. Each case runs the built tool with a deadline (a blocking open of a FIFO would hang it) and checks
/// the exact error and exit code. FIFOs, /dev/zero links, sockets and sparse giant files are made here;
/// the zstd frames come from fixtures/gen_hostile_files.py.
final class HostileFileTests: XCTestCase {
    static let tinyModel = FixturePaths.fixture("tiny-mixtral")
    static let shardedModel = FixturePaths.fixture("models/mixtral-bf16-sharded")
    static let tokenizer = FixturePaths.fixture("tiny-mixtral/tokenizer.json")
    static let bomb = FixturePaths.fixture("hostile/files/bomb-1gib-no-newline.txt.zst")
    static let mebibyte = 1 << 20

    private var scratch = ""

    override func setUpWithError() throws {
        scratch = try Fixtures.scratch()
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: scratch)
    }

    // MARK: - Files read whole

    func testFifoConfigIsRefusedWithoutHanging() throws {
        let model = try modelFolder(Self.tinyModel, without: "config.json")
        XCTAssertEqual(mkfifo(model + "/config.json", 0o600), 0)
        try expect(["inspect", model], 65, "\(model)/config.json: is a FIFO, not a regular file")
    }

    func testConfigLinkedToDevZeroIsRefused() throws {
        let model = try modelFolder(Self.tinyModel, without: "config.json")
        try FileManager.default.createSymbolicLink(atPath: model + "/config.json", withDestinationPath: "/dev/zero")
        try expect(["inspect", model], 65, "\(model)/config.json: is a character device, not a regular file")
    }

    func testDirectoryNamedConfigIsRefused() throws {
        let model = try modelFolder(Self.tinyModel, without: "config.json")
        try FileManager.default.createDirectory(atPath: model + "/config.json", withIntermediateDirectories: false)
        try expect(["inspect", model], 65, "\(model)/config.json: is a directory, not a regular file")
    }

    func testConfigOverItsLimitIsRefusedBeforeReading() throws {
        let model = try modelFolder(Self.tinyModel, without: "config.json")
        try sparseFile(model + "/config.json", size: 16 * Self.mebibyte + 1)
        try expect(["inspect", model], 65, "\(model)/config.json: is 16777217 bytes, over the 16 MiB limit for a config file")
    }

    /// The limit is inclusive: a real config padded with whitespace to exactly 16 MiB still loads.
    func testConfigAtItsLimitIsRead() throws {
        let model = try modelFolder(Self.tinyModel, without: "config.json")
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: Self.tinyModel + "/config.json")))
        bytes += [UInt8](repeating: 0x20, count: InputLimits.configBytes - bytes.count)
        FileManager.default.createFile(atPath: model + "/config.json", contents: Data(bytes))
        let run = try MeasuredRun.run(["inspect", model])
        XCTAssertEqual(run.status, 0, run.stderr)
    }

    /// procfs files are regular files that say they are empty; the reader goes by what read(2) returns, up to the
    /// limit, so the content is parsed (and refused as JSON) rather than taken for an empty file.
    func testConfigLinkedToProcfsIsReadThoughItsSizeSaysZero() throws {
        let model = try modelFolder(Self.tinyModel, without: "config.json")
        try FileManager.default.createSymbolicLink(atPath: model + "/config.json", withDestinationPath: "/proc/self/status")
        try expect(["inspect", model], 65, "\(model)/config.json: invalid JSON at byte 0: unexpected character")
    }

    func testIndexLinkedToDevZeroIsRefused() throws {
        let model = try modelFolder(Self.shardedModel, without: Checkpoint.indexName)
        try FileManager.default.createSymbolicLink(atPath: model + "/" + Checkpoint.indexName, withDestinationPath: "/dev/zero")
        try expect(["inspect", model], 65, "\(model)/\(Checkpoint.indexName): is a character device, not a regular file")
    }

    func testIndexOverItsLimitIsRefused() throws {
        let model = try modelFolder(Self.shardedModel, without: Checkpoint.indexName)
        try sparseFile(model + "/" + Checkpoint.indexName, size: 64 * Self.mebibyte + 1)
        try expect(["inspect", model], 65, "\(model)/\(Checkpoint.indexName): is 67108865 bytes, over the 64 MiB limit for a safetensors index")
    }

    func testFifoIndexIsRefusedByVerify() throws {
        let model = try modelFolder(Self.shardedModel, without: Checkpoint.indexName)
        XCTAssertEqual(mkfifo(model + "/" + Checkpoint.indexName, 0o600), 0)
        let message = "\(model)/\(Checkpoint.indexName): is a FIFO, not a regular file"
        let run = try expect(["verify", model], 65, message)
        XCTAssertEqual(run.stdout, "\(model): FAILED (1 problem)\n  problem [invalidIndex]: \(message)\n")
    }

    func testShardLinkedToDevZeroIsRefused() throws {
        let model = try modelFolder(Self.tinyModel, without: "model.safetensors")
        try FileManager.default.createSymbolicLink(atPath: model + "/model.safetensors", withDestinationPath: "/dev/zero")
        try expect(["inspect", model], 65, "\(model)/model.safetensors: is a character device, not a regular file")
    }

    func testTokenizerLinkedToDevZeroIsRefused() throws {
        let data = try textFile("data.txt", "hello\n")
        let zero = scratch + "/tokenizer.json"
        try FileManager.default.createSymbolicLink(atPath: zero, withDestinationPath: "/dev/zero")
        try expect(["tokenize", "--tokenizer", zero, data], 65, "\(zero): is a character device, not a regular file")
    }

    func testTokenizerOverItsLimitIsRefused() throws {
        let data = try textFile("data.txt", "hello\n")
        let big = scratch + "/tokenizer.json"
        try sparseFile(big, size: 256 * Self.mebibyte + 1)
        try expect(["tokenize", "--tokenizer", big, data], 65, "\(big): is 268435457 bytes, over the 256 MiB limit for a tokenizer")
    }

    /// 32 KiB that expand to 1 GiB: decompression stops one chunk past the limit, within about twice the limit.
    func testCompressedTokenizerThatExpandsPastItsLimitIsRefused() throws {
        let data = try textFile("data.txt", "hello\n")
        let run = try expect(["tokenize", "--tokenizer", Self.bomb, data], 65, "\(Self.bomb): decompresses to more than the 256 MiB limit for a tokenizer")
        XCTAssertLessThan(run.peakKiB, MeasuredRun.bound(mebibytes: 768))
        XCTAssertGreaterThan(run.peakKiB, 1024, "the peak is measured")
    }

    func testCountsLinkedToDevZeroIsRefused() throws {
        let zero = scratch + "/counts.json"
        try FileManager.default.createSymbolicLink(atPath: zero, withDestinationPath: "/dev/zero")
        try expect(["counts", "show", zero], 65, "\(zero): is a character device, not a regular file")
    }

    func testFifoCountsIsRefusedByMerge() throws {
        let fifo = scratch + "/counts.json"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        try expect(["counts", "merge", fifo, fifo, "-o", scratch + "/merged.json"], 65, "\(fifo): is a FIFO, not a regular file")
    }

    func testCountsOverItsLimitIsRefused() throws {
        let big = scratch + "/counts.json"
        try sparseFile(big, size: 256 * Self.mebibyte + 1)
        try expect(["counts", "show", big], 65, "\(big): is 268435457 bytes, over the 256 MiB limit for a counts file")
    }

    func testFifoPlanIsRefused() throws {
        let fifo = scratch + "/plan.json"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        try expect(["prune", Self.tinyModel, scratch + "/out", "--plan", fifo], 65, "\(fifo): is a FIFO, not a regular file")
    }

    func testPlanOverItsLimitIsRefused() throws {
        let big = scratch + "/plan.json"
        try sparseFile(big, size: 64 * Self.mebibyte + 1)
        try expect(["prune", Self.tinyModel, scratch + "/out", "--plan", big], 65, "\(big): is 67108865 bytes, over the 64 MiB limit for a plan file")
    }

    func testFifoAdapterConfigIsRefused() throws {
        let adapter = try modelFolder(FixturePaths.fixture("lora/experts-router/adapter"), without: "adapter_config.json")
        XCTAssertEqual(mkfifo(adapter + "/adapter_config.json", 0o600), 0)
        try expect(["merge-lora", Self.tinyModel, adapter, scratch + "/out"], 65, "\(adapter)/adapter_config.json: is a FIFO, not a regular file")
    }

    /// prune copies the model folder's other files; a FIFO among them stops it before anything is published.
    func testFifoAmongTheFilesPruneCopiesIsRefused() throws {
        let model = try modelFolder(Self.tinyModel, without: "notes.txt")
        XCTAssertEqual(mkfifo(model + "/notes.txt", 0o600), 0)
        let plan = try textFile("plan.json", #"{"layers": {}}"#)
        let out = scratch + "/out"
        try expect(["prune", model, out, "--plan", plan], 74, "\(model)/notes.txt: is a FIFO, not a regular file")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch).sorted(), ["model", "plan.json"])
    }

    // MARK: - Data files and records

    func testFifoDataFileIsRefusedWithoutHanging() throws {
        let fifo = scratch + "/data.txt"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        try expect(["tokenize", "--tokenizer", Self.tokenizer, fifo], 65, "\(fifo): is a FIFO, not a regular file")
    }

    /// A socket cannot even be opened (ENXIO); it is refused by type before any open.
    func testSocketDataFileIsRefused() throws {
        let path = scratch + "/data.txt"
        let socket = try listeningSocket(path)
        defer { close(socket) }
        try expect(["tokenize", "--tokenizer", Self.tokenizer, path], 65, "\(path): is a socket, not a regular file")
    }

    /// 16 MiB and 2 bytes without a newline: refused once the line passes the limit, never held whole.
    func testSingleLineOverTheRecordLimitIsRefusedInBoundedMemory() throws {
        let big = scratch + "/data.txt"
        try sparseFile(big, size: InputLimits.defaultRecordBytes + 2)
        let run = try expect(["tokenize", "--tokenizer", Self.tokenizer, big], 65, "\(big): line 1: record is over 16777216 bytes, the --max-record-bytes limit")
        XCTAssertLessThan(run.peakKiB, MeasuredRun.bound(mebibytes: 256))
        XCTAssertGreaterThan(run.peakKiB, 1024, "the peak is measured")
    }

    /// 32 KiB of zstd that expand to 1 GiB with no newline: stopped at the limit, in bounded memory and time.
    func testZstdBombWithoutNewlineIsRefusedInBoundedMemory() throws {
        let run = try expect(["tokenize", "--tokenizer", Self.tokenizer, Self.bomb], 65, "\(Self.bomb): line 1: record is over 16777216 bytes, the --max-record-bytes limit")
        XCTAssertLessThan(run.peakKiB, MeasuredRun.bound(mebibytes: 256))
        XCTAssertGreaterThan(run.peakKiB, 1024, "the peak is measured")
    }

    func testWholeFileOverTheRecordLimitIsRefused() throws {
        let data = try textFile("data.txt", "hello\nworld\n")
        try expect(["tokenize", "--tokenizer", Self.tokenizer, "--whole-file", "--max-record-bytes", "11", data], 65, "\(data): line 1: record is over 11 bytes, the --max-record-bytes limit")
    }

    /// The limit counts the line without its "\r\n"; one byte more is refused.
    func testRecordLimitIsInclusiveAndExcludesTheLineEnding() throws {
        let data = try textFile("data.txt", "hello\r\nworld\n")
        let fits = try MeasuredRun.run(["tokenize", "--tokenizer", Self.tokenizer, "--max-record-bytes", "5", data])
        XCTAssertEqual(fits.status, 0, fits.stderr)
        XCTAssertEqual(fits.stdout.split(separator: "\n").count, 2)
        try expect(["tokenize", "--tokenizer", Self.tokenizer, "--max-record-bytes", "4", data], 65, "\(data): line 1: record is over 4 bytes, the --max-record-bytes limit")
    }

    /// The largest limit a user can give must not overflow the reader's arithmetic.
    func testLargestRecordLimitIsAccepted() throws {
        let data = try textFile("data.txt", "hello\n")
        let run = try MeasuredRun.run(["tokenize", "--tokenizer", Self.tokenizer, "--max-record-bytes", String(Int.max), data])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout.split(separator: "\n").count, 1)
    }

    /// With --skip-bad an over-long line is skipped as it streams past, and the records after it are read.
    func testSkipBadSkipsAnOverLongLineAndReadsOn() throws {
        let data = try textFile("data.txt", String(repeating: "a", count: 3 << 20) + "\nhello\n")
        let alone = try textFile("hello.txt", "hello\n")
        let skipped = try MeasuredRun.run(["tokenize", "--tokenizer", Self.tokenizer, "--max-record-bytes", "1000", "--skip-bad", data])
        let expected = try MeasuredRun.run(["tokenize", "--tokenizer", Self.tokenizer, alone])
        XCTAssertEqual(skipped.status, 0, skipped.stderr)
        XCTAssertEqual(skipped.stdout, expected.stdout)
        XCTAssertEqual(skipped.stderr, "moe-slim: skipped 1 malformed lines\n")
    }

    func testZstdFrameAskingForAnOversizedWindowIsRefused() throws {
        let frame = FixturePaths.fixture("hostile/files/window-log-31.txt.zst")
        try expect(["tokenize", "--tokenizer", Self.tokenizer, frame], 65, "\(frame): zstd frame asks for a window larger than 128 MiB, the limit")
    }

    func testZstdFrameAtTheWindowLimitIsRead() throws {
        let frame = FixturePaths.fixture("hostile/files/window-log-27.txt.zst")
        let alone = try textFile("hello.txt", "hello\n")
        let run = try MeasuredRun.run(["tokenize", "--tokenizer", Self.tokenizer, frame])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, try MeasuredRun.run(["tokenize", "--tokenizer", Self.tokenizer, alone]).stdout)
    }

    /// Multiple-choice questions (eval) go through the same line limit.
    func testChoiceRecordOverTheLimitIsRefused() throws {
        let line = #"{"question": "\#(String(repeating: "a", count: 100))", "choices": ["b", "c"], "answer": 0}"#
        let data = try textFile("questions.jsonl", line + "\n")
        var options = DataReaderOptions()
        options.maxRecordBytes = 64
        let reader = try ChoiceRecordReader(
            paths: [data], options: options, fields: .init(prompt: "question", choices: "choices", answer: "answer"),
            tokenizer: Tokenizer(path: Self.tokenizer))
        XCTAssertThrowsError(try reader.next()) { error in
            XCTAssertEqual("\(error)", "\(data): line 1: record is over 64 bytes, the --max-record-bytes limit")
        }
    }

    // MARK: - Helpers

    /// Runs the tool, which must finish well before the deadline, fail with `status` and say exactly `message`.
    @discardableResult
    private func expect(_ arguments: [String], _ status: Int32, _ message: String, file: StaticString = #filePath, line: UInt = #line) throws -> MeasuredRun.Outcome {
        let run = try MeasuredRun.run(arguments)
        XCTAssertFalse(run.timedOut, "moe-slim \(arguments.joined(separator: " ")) hung", file: file, line: line)
        XCTAssertEqual(run.status, status, run.stderr, file: file, line: line)
        XCTAssertEqual(run.stderr, "moe-slim: error: \(message)\n", file: file, line: line)
        return run
    }

    /// A folder `model` in the scratch folder linking to every file of `source` except `name`, which the case
    /// then makes.
    private func modelFolder(_ source: String, without name: String) throws -> String {
        let folder = scratch + "/model"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        for entry in try FileManager.default.contentsOfDirectory(atPath: source) where entry != name {
            try FileManager.default.createSymbolicLink(atPath: folder + "/" + entry, withDestinationPath: source + "/" + entry)
        }
        return folder
    }

    /// A file of `size` zero bytes that takes no disk space.
    private func sparseFile(_ path: String, size: Int) throws {
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil))
        XCTAssertEqual(truncate(path, off_t(size)), 0)
    }

    private func textFile(_ name: String, _ text: String) throws -> String {
        let path = scratch + "/" + name
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    private func listeningSocket(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8.prefix(raw.count - 1))
            raw.copyBytes(from: bytes)
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        XCTAssertEqual(bound, 0)
        return fd
    }
}
