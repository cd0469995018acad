import XCTest

@testable import MoESlimSupport
@testable import MoESlimText

/// Components outside what formats/tokenizer.md lists must fail at load with their name, never fall back.
final class TokenizerRefusalTests: XCTestCase {
    private func tokenizer(
        model: String = #"{"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}"#,
        normalizer: String = "null", preTokenizer: String = "null", postProcessor: String = "null",
        truncation: String = "null"
    ) throws -> Tokenizer {
        let json = """
            {"version": "1.0", "truncation": \(truncation), "padding": null, "added_tokens": [],
             "normalizer": \(normalizer), "pre_tokenizer": \(preTokenizer), "post_processor": \(postProcessor),
             "decoder": null, "model": \(model)}
            """
        return try Tokenizer(bytes: Array(json.utf8), path: "tokenizer.json")
    }

    private func assertRefused(_ expected: String, _ body: () throws -> Tokenizer, line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) { error in
            let e = error as! MoESlimError
            XCTAssertEqual(e.code, .invalidTokenizer, line: line)
            XCTAssertEqual(e.path, "tokenizer.json", line: line)
            XCTAssertTrue(e.message.contains(expected), "\(e.message) lacks \(expected)", line: line)
        }
    }

    func testUnsupportedComponentsAreNamed() {
        assertRefused("unsupported model 'WordPiece'") { try tokenizer(model: #"{"type": "WordPiece", "vocab": {}}"#) }
        assertRefused("unsupported model 'Unigram'") { try tokenizer(model: #"{"type": "Unigram", "vocab": []}"#) }
        assertRefused("unsupported normalizer 'Precompiled'") {
            try tokenizer(normalizer: #"{"type": "Sequence", "normalizers": [{"type": "Precompiled"}]}"#)
        }
        assertRefused("unsupported pre_tokenizer 'BertPreTokenizer'") {
            try tokenizer(preTokenizer: #"{"type": "BertPreTokenizer"}"#)
        }
        assertRefused("unsupported post_processor 'RobertaProcessing'") {
            try tokenizer(postProcessor: #"{"type": "RobertaProcessing"}"#)
        }
        assertRefused("'truncation' is set") { try tokenizer(truncation: #"{"max_length": 8}"#) }
        assertRefused("dropout") {
            try tokenizer(model: #"{"type": "BPE", "dropout": 0.1, "vocab": {"a": 0}, "merges": []}"#)
        }
    }

    func testUnsupportedRegexConstructsAreNamed() {
        for (pattern, reason) in [
            (#"(?<=a)b"#, "lookbehind"), (#"\bword\b"#, "unsupported escape '\\b'"), (#"(a)\1"#, "unsupported escape '\\1'"),
            (#"[[:alpha:]]"#, "POSIX"), (#"\p{Han}"#, "unsupported property"), (#"(?i)abc"#, "inline flags"),
        ] {
            let json = #"{"type": "Split", "pattern": {"Regex": "PATTERN"}, "behavior": "Isolated", "invert": false}"#
                .replacingOccurrences(of: "PATTERN", with: pattern.replacingOccurrences(of: "\\", with: "\\\\"))
            assertRefused(reason) { try tokenizer(preTokenizer: json) }
        }
    }

    func testBrokenModelsAreRefused() {
        assertRefused("uses a token missing from the vocab") {
            try tokenizer(model: #"{"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]}"#)
        }
        assertRefused("unk_token \"<unk>\" is not in the vocab") {
            try tokenizer(model: #"{"type": "BPE", "unk_token": "<unk>", "vocab": {"a": 0}, "merges": []}"#)
        }
        assertRefused("invalid JSON") { try Tokenizer(bytes: Array("{".utf8), path: "tokenizer.json") }
    }

    /// Swift's String == would merge these two keys (canonical equivalence); they are different tokens.
    func testVocabularyIsKeyedByBytes() throws {
        let t = try tokenizer(model: #"{"type": "BPE", "vocab": {"\u00e9": 0, "e": 1, "\u0301": 2, "e\u0301": 3}, "merges": ["e \u0301"]}"#)
        XCTAssertEqual(try t.encode("\u{e9}"), [0])
        XCTAssertEqual(try t.encode("e\u{301}"), [3])
    }
}
