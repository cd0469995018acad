import ArgumentParser
import Foundation
import XCTest

@testable import MoESlimSupport
@testable import MoESlimFormats
@testable import moe_slim

/// Closed choices and sizes are typed options: the parser refuses anything else before a command runs (usage
/// error, 64) and help and completion list the values; every size option reads sizes by one rule, once; every
/// printed size uses binary units; MOE_SLIM_DEBUG adds where an error was raised.
final class OptionValueTests: XCTestCase {
    func testSizesParseAsTransformersReadsThem() {
        XCTAssertEqual(ByteSize(parsing: "5GB")?.bytes, 5_000_000_000)
        XCTAssertEqual(ByteSize(parsing: "2GiB")?.bytes, 1 << 31)
        XCTAssertEqual(ByteSize(parsing: " 500 mb ")?.bytes, 500_000_000)
        XCTAssertEqual(ByteSize(parsing: "1.5KiB")?.bytes, 1536)
        XCTAssertEqual(ByteSize(parsing: "10B")?.bytes, 10)
        XCTAssertEqual(ByteSize(parsing: "4096")?.bytes, 4096)
        XCTAssertEqual(ByteSize(parsing: String(Int.max))?.bytes, Int.max, "a bare number is exact, not rounded through Double")
        for bad in ["", "0", "-1", "-1KB", "0KB", "0.1B", "4XB", "GB", "nan GB", "inf", "1e30GB", "5 G B"] {
            XCTAssertNil(ByteSize(parsing: bad), bad)
        }
    }

    func testSizesPrintInBinaryUnits() {
        XCTAssertEqual(ByteSize(0).description, "0 B")
        XCTAssertEqual(ByteSize(1023).description, "1023 B")
        XCTAssertEqual(ByteSize(1024).description, "1 KiB")
        XCTAssertEqual(ByteSize(1536).description, "1.50 KiB")
        XCTAssertEqual(ByteSize(16 << 20).description, "16 MiB")
        XCTAssertEqual(ByteSize(5_000_000_000).description, "4.66 GiB")
        XCTAssertEqual(ByteSize(3 << 40).description, "3 TiB")
    }

    func testSizeOptionsAreBytesOnceParsed() throws {
        XCTAssertEqual(try EvalCommand.parse(["m", "--data", "d", "--memory", "8GiB"]).eval.memory.bytes, 8 << 30)
        XCTAssertEqual(try EvalCommand.parse(["m", "--data", "d"]).eval.memory.bytes, 4 << 30)
        XCTAssertEqual(try CalibrateCommand.parse(["m", "--data", "d", "-o", "c", "--memory", "2GB"]).memory.bytes, 2_000_000_000)
        XCTAssertEqual(try CalibrateCommand.parse(["m", "--data", "d", "-o", "c"]).memory, ComputeOptions.defaultMemory)
        XCTAssertEqual(try PruneCommand.parse(["in", "out", "--plan", "p", "--max-shard-size", "10KB"]).outputOptions.sharding, .maxBytes(10_000))
        XCTAssertEqual(try PruneCommand.parse(["in", "out", "--plan", "p"]).outputOptions.sharding, .keepInput)
        XCTAssertEqual(try MergeLoraCommand.parse(["b", "a", "o", "--max-shard-size", "1GiB"]).outputOptions.sharding, .maxBytes(1 << 30))
        XCTAssertEqual(try TokenizeCommand.parse(["--tokenizer", "t", "f", "--max-record-bytes", "64KiB"]).data.maxRecordBytes.bytes, 65536)
        XCTAssertEqual(try TokenizeCommand.parse(["--tokenizer", "t", "f"]).data.readerOptions().maxRecordBytes, InputLimits.defaultRecordBytes)
    }

    func testChoicesAreTypedAndKeepTheirSpellings() throws {
        XCTAssertEqual(try PruneCommand.parse(["in", "out", "--plan", "p", "--strategy", "global"]).strategy, .global)
        XCTAssertEqual(try PruneCommand.parse(["in", "out", "--plan", "p"]).strategy, .layer)
        let sweep = try SweepCommand.parse(["m", "--counts", "c", "--data", "d", "--strategy", "layer, global", "--sparsity", "0.25,0.5"])
        XCTAssertEqual(sweep.strategy?.values, [.layer, .global])
        XCTAssertEqual(sweep.sparsity?.values, [0.25, 0.5])
        XCTAssertEqual(try EvalCommand.parse(["m", "--data", "d", "--task", "choice"]).eval.task, .choice)
        XCTAssertEqual(try EvalCommand.parse(["m", "--data", "d"]).eval.task, .perplexity)
        XCTAssertEqual(try TokenizeCommand.parse(["--tokenizer", "t", "f", "--format", "jsonl"]).data.readerOptions().format, .jsonl)
        XCTAssertEqual(try CalibrateCommand.parse(["m", "--data", "d", "-o", "c", "--compute", "f32"]).engine.compute, .f32)
        let spellings: [(String, OutputDType, DType?)] = [
            ("keep", .keep, nil), ("BF16", .bf16, .BF16), ("bfloat16", .bf16, .BF16), ("fp16", .f16, .F16),
            ("Float16", .f16, .F16), ("f32", .f32, .F32), ("float32", .f32, .F32),
        ]
        for (spelling, dtype, storage) in spellings {
            let parsed = try MergeLoraCommand.parse(["b", "a", "o", "--dtype", spelling]).dtype
            XCTAssertEqual(parsed, dtype, spelling)
            XCTAssertEqual(parsed.storage, storage, spelling)
        }
    }

    func testAdapterWeightsAreParsedOnce() throws {
        let merge = try MergeLoraCommand.parse(["b", "o", "--adapter", "a:0.5", "--adapter", "c"])
        XCTAssertEqual(merge.adapters.map(\.path), ["a", "c"])
        XCTAssertEqual(merge.adapters.map(\.weight), [0.5, 1])
        let colon = try Fixtures.scratch() + "/run:2"
        try FileManager.default.createDirectory(atPath: colon, withIntermediateDirectories: true)
        let existing = try MergeLoraCommand.parse(["b", "o", "--adapter", colon])
        XCTAssertEqual(existing.adapters.map(\.path), [colon], "a folder whose name has a colon is taken whole")
        XCTAssertEqual(existing.adapters.map(\.weight), [1])
    }

    /// The parser's own usage error, exit 64 as our ValidationErrors, naming the values when there are few.
    func testOtherValuesAreRefusedBeforeTheCommandRuns() throws {
        let model = Fixtures.model("mixtral")
        let refused: [([String], String)] = [
            (["eval", model, "--data", "d", "--task", "mmlu"],
             "Error: The value 'mmlu' is invalid for '--task <task>'. Please provide one of 'perplexity' and 'choice'."),
            (["prune", model, "out", "--plan", "p", "--strategy", "local"],
             "Error: The value 'local' is invalid for '--strategy <strategy>'. Please provide one of 'layer' and 'global'."),
            (["sweep", model, "--counts", "c", "--data", "d", "--strategy", "layer,local"],
             "Error: The value 'layer,local' is invalid for '--strategy <strategy>'. Please provide one of 'layer' and 'global'."),
            (["sweep", model, "--counts", "c", "--data", "d", "--sparsity", "0.25,lots"],
             "Error: The value '0.25,lots' is invalid for '--sparsity <sparsity>'"),
            (["tokenize", "--tokenizer", "t", "f", "--format", "csv"],
             "Error: The value 'csv' is invalid for '--format <format>'. Please provide one of 'auto', 'text' or 'jsonl'."),
            (["merge-lora", "b", "a", "o", "--dtype", "int8"],
             "Error: The value 'int8' is invalid for '--dtype <dtype>'. Please provide one of 'keep', 'bf16', 'f16' or 'f32'."),
            (["merge-lora", "b", "o", "--adapter", "x:heavy"],
             "Error: The value 'x:heavy' is invalid for '--adapter <dir[:weight]>': the weight after ':' is not a number"),
            (["eval", model, "--data", "d", "--memory", "8XB"], "Error: The value '8XB' is invalid for '--memory <size>'"),
            (["calibrate", model, "--data", "d", "-o", "c", "--memory", "0"], "Error: The value '0' is invalid for '--memory <size>'"),
            (["prune", model, "out", "--plan", "p", "--max-shard-size", "lots"], "Error: The value 'lots' is invalid for '--max-shard-size <size>'"),
            (["tokenize", "--tokenizer", "t", "f", "--max-record-bytes", "0"], "Error: The value '0' is invalid for '--max-record-bytes <size>'"),
        ]
        for (arguments, message) in refused {
            let run = try CommandRunner.run(arguments)
            XCTAssertEqual(run.status, 64, arguments.joined(separator: " "))
            XCTAssertEqual(run.stderr.split(separator: "\n").first.map(String.init), message)
            XCTAssertEqual(run.stdout, "")
        }
    }

    func testHelpAndCompletionListTheValues() throws {
        func help(_ command: String) throws -> String {
            try CommandRunner.run([command, "--help"]).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        }
        XCTAssertTrue(try help("prune").contains("(values: layer, global; default: layer)"))
        XCTAssertTrue(try help("sweep").contains("(values: layer, global)"))
        XCTAssertTrue(try help("eval").contains("(values: perplexity, choice; default: perplexity)"))
        XCTAssertTrue(try help("eval").contains("--memory <size>"))
        XCTAssertTrue(try help("eval").contains("(default: 4 GiB)"))
        XCTAssertTrue(try help("tokenize").contains("(values: auto, text, jsonl; default: auto)"))
        XCTAssertTrue(try help("tokenize").contains("(default: 16 MiB)"))
        XCTAssertTrue(try help("merge-lora").contains("(values: keep, bf16, f16, f32; default: keep)"))
        XCTAssertTrue(try help("merge-lora").contains("(values: once, peft; default: once)"))
        XCTAssertTrue(try help("calibrate").contains("(values: bf16, f32; default: bf16)"))
        let bash = try CommandRunner.run(["--generate-completion-script", "bash"]).stdout
        for values in ["'layer'$'\\n''global'", "'perplexity'$'\\n''choice'", "'auto'$'\\n''text'$'\\n''jsonl'", "'keep'$'\\n''bf16'$'\\n''f16'$'\\n''f32'"] {
            XCTAssertTrue(bash.contains(values), values)
        }
    }

    /// report and sweep print the same model's bytes alike (sweep once printed KB where report printed KiB).
    func testReportAndSweepPrintSizesAlike() throws {
        let model = SweepFixture.model
        let bytes = try SweepFixture.json(["report", model])["bytes"] as! Int
        let expected = ByteSize(bytes).description
        XCTAssertTrue(expected.hasSuffix("iB"), expected)
        let report = try CommandRunner.run(["report", model])
        XCTAssertEqual(report.status, 0, report.stderr)
        let total = report.stdout.split(separator: "\n").first { $0.hasPrefix("total") }.map(String.init) ?? ""
        XCTAssertTrue(total.contains(" \(expected) "), total)
        let f = try SweepFixture()
        let sweep = try CommandRunner.run(["sweep", model, "--plan", f.plan, "--data", SweepFixture.calib, "--max-records", "1"])
        XCTAssertEqual(sweep.status, 0, sweep.stderr)
        let base = sweep.stdout.split(separator: "\n")[2]
        XCTAssertTrue(base.contains(" \(expected) "), String(base))
    }

    func testDebugDescriptionAddsWhereTheErrorWasRaised() {
        let error = MoESlimError(.invalidPlan, "no layers", path: "plan.json"); let line = #line
        XCTAssertEqual(error.description, "plan.json: no layers")
        XCTAssertEqual(error.debugDescription, "plan.json: no layers [raised at MoESlimTests/OptionValueTests.swift:\(line)]")
    }

    /// The plain line stays what scripts match; MOE_SLIM_DEBUG adds the raising source file and line.
    func testMoESlimDebugShowsTheLocation() throws {
        let missing = try Fixtures.scratch() + "/missing"
        let plain = "moe-slim: error: \(missing): no such file or folder"
        for command in ["inspect", "verify"] {
            let quiet = try CommandRunner.run([command, missing], environment: ["MOE_SLIM_DEBUG": "0"])
            XCTAssertEqual(quiet.stderr, plain + "\n", command)
            let debug = try CommandRunner.run([command, missing], environment: ["MOE_SLIM_DEBUG": "1"])
            XCTAssertEqual(debug.status, quiet.status, command)
            let pattern = "^" + NSRegularExpression.escapedPattern(for: plain) + #" \[raised at [A-Za-z_]+/[A-Za-z_+]+\.swift:[1-9][0-9]*\]\n$"#
            XCTAssertNotNil(debug.stderr.range(of: pattern, options: .regularExpression), debug.stderr)
        }
    }
}
