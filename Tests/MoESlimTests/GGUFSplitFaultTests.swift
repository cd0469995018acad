import Foundation
import XCTest
@testable import MoESlimSupport
@testable import MoESlimFormats

/// A split GGUF output stopped by SIGTERM while its parts are being written leaves no part and no temporary.
final class GGUFSplitFaultTests: XCTestCase {
    private var folder = ""

    override func setUp() {
        folder = NSTemporaryDirectory() + "gguf-split-fault-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: folder + "/out", withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// One MoE layer of 4 F32 experts of 2048 × 512 (48 MiB of experts), so writing its parts, each synced,
    /// takes long enough to be stopped between the first temporary and the first rename.
    private func writeModel(_ path: String) throws {
        let hidden = 512, ff = 2048, experts = 4, vocab = 32
        let f32 = GGMLType.f32
        let tensors: [(String, [Int])] = [("token_embd.weight", [hidden, vocab]), ("blk.0.ffn_gate_inp.weight", [hidden, experts]),
                                          ("blk.0.ffn_gate_exps.weight", [hidden, ff, experts]), ("blk.0.ffn_up_exps.weight", [hidden, ff, experts]),
                                          ("blk.0.ffn_down_exps.weight", [ff, hidden, experts])]
        let metadata: [(String, GGUFValue)] = [
            ("general.architecture", .string(Array("llama".utf8))), ("llama.block_count", .integer(.uint32, 1)),
            ("llama.embedding_length", .integer(.uint32, Int64(hidden))), ("llama.expert_count", .integer(.uint32, Int64(experts))),
            ("llama.expert_used_count", .integer(.uint32, 2)),
        ]
        var header = GGUFEncoding.fileHeader(version: 3, tensorCount: tensors.count, keyValueCount: metadata.count)
        for (key, value) in metadata { header += GGUFEncoding.keyValue(key, value)! }
        var offset = 0
        for (name, dims) in tensors {
            header += GGUFEncoding.tensorInfo(name: name, dims: dims, type: f32, offset: offset)
            offset += dims.reduce(4, *)
        }
        header += [UInt8](repeating: 0, count: GGUFEncoding.padding(after: header.count, alignment: 32))
        var data = Data(header)
        data.append(Data(repeating: 0x3C, count: offset))
        try data.write(to: URL(fileURLWithPath: path))
    }

    func testSigtermWhileWritingPartsLeavesNoPartAndNoTemporary() throws {
        let input = folder + "/in.gguf", plan = folder + "/plan.json", out = folder + "/out"
        try writeModel(input)
        try Data(#"{"layers": {"0": [0, 1]}}"#.utf8).write(to: URL(fileURLWithPath: plan))
        let arguments = ["prune", input, out + "/pruned.gguf", "--plan", plan, "--split-max-tensors", "1", "--force"]
        for _ in 0..<20 {
            let writer = try CommandRunner.start(arguments)
            var stopped = false
            while writer.isRunning {
                guard !FaultModel.temporaries(in: out).isEmpty else { continue }
                kill(writer.processIdentifier, SIGSTOP)
                let names = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
                stopped = names.allSatisfy { $0.contains(".moe-slim-tmp-") }
                if !stopped { kill(writer.processIdentifier, SIGCONT) }
                break
            }
            guard stopped else {
                writer.waitUntilExit()
                for name in (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? [] { try? FileManager.default.removeItem(atPath: out + "/" + name) }
                continue
            }
            kill(writer.processIdentifier, SIGTERM)
            kill(writer.processIdentifier, SIGCONT)
            writer.waitUntilExit()
            XCTAssertTrue([128 + SIGTERM, 74].contains(writer.terminationStatus), "\(writer.terminationStatus)")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out), [])
            return
        }
        XCTFail("the writer never stayed mid-write long enough to be stopped")
    }

    /// The same model written whole: five parts of one tensor each, the split keys in every part.
    func testTheModelSplitsIntoOnePartPerTensor() throws {
        let input = folder + "/in.gguf", plan = folder + "/plan.json"
        try writeModel(input)
        try Data(#"{"layers": {"0": [0, 1]}}"#.utf8).write(to: URL(fileURLWithPath: plan))
        let r = try CommandRunner.run(["prune", input, folder + "/out/pruned.gguf", "--plan", plan, "--split-max-tensors", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let written = try GGUFModel(path: folder + "/out/pruned-00005-of-00005.gguf")
        XCTAssertEqual(written.parts.map(\.header.tensors.count), [1, 1, 1, 1, 1])
        XCTAssertEqual(written.tensor("blk.0.ffn_up_exps.weight")?.info.dims, [512, 2048, 2])
    }
}
