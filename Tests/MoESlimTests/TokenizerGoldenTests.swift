import XCTest

@testable import MoESlimSupport
@testable import MoESlimText

/// Ids recorded from Hugging Face `tokenizers` by fixtures/gen_tokenizers.py; every corpus line must match.
final class TokenizerGoldenTests: XCTestCase {
    static let folder = Fixtures.root.appendingPathComponent("tokenizers").path

    func testMixtralMetaspace() throws { try check("mixtral-metaspace") }
    func testMixtralPrepend() throws { try check("mixtral-prepend") }
    func testDeepSeekV3() throws { try check("deepseek-v3") }
    func testOLMoE() throws { try check("olmoe") }
    func testLlama3IgnoreMerges() throws { try check("llama3-ignore-merges") }
    func testQwen2Synthetic() throws { try check("qwen2-synthetic") }
    func testMiscSynthetic() throws { try check("misc-synthetic") }
    func testMetaspaceSplitSynthetic() throws { try check("metaspace-split-synthetic") }

    private func check(_ name: String) throws {
        let tokenizer = try Tokenizer(path: "\(Self.folder)/\(name).json.zst")
        let corpus = try Self.jsonLines("\(Self.folder)/corpus.jsonl.zst")
        let golden = try Self.jsonLines("\(Self.folder)/\(name).golden.jsonl.zst")
        XCTAssertEqual(corpus.count, golden.count)
        var mismatches = 0
        for (line, (record, expected)) in zip(corpus, golden).enumerated() {
            let text = record.root["text"]!.bytes!
            let want = expected.root.array!.map { Int32($0.int!) }
            let got = try tokenizer.encode(bytes: text)
            if got != want {
                mismatches += 1
                if mismatches <= 5 {
                    XCTFail("\(name) line \(line + 1) \(String(reflecting: String(decoding: text, as: UTF8.self)))\n got \(got)\nwant \(want)")
                }
            }
        }
        XCTAssertEqual(mismatches, 0, "\(name): \(mismatches) of \(corpus.count) lines differ")
    }

    static func jsonLines(_ path: String) throws -> [JSONCDocument] {
        let reader = try LineReader(path: path, kind: .data, limit: InputLimits.defaultRecordBytes)
        var documents: [JSONCDocument] = []
        while case .bytes(let line) = try reader.next() {
            documents.append(try line.withUnsafeBytes { try JSONCDocument.parse($0).get() })
        }
        return documents
    }
}
