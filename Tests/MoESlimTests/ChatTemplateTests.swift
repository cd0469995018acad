import Foundation
import XCTest
@testable import MoESlimText

/// Chat records rendered with each supported family's published chat template must equal transformers'
/// apply_chat_template byte for byte, and their ids those of Hugging Face tokenizers (fixtures/gen_chat.py).
final class ChatTemplateTests: XCTestCase {
    static let families = ["mixtral", "qwen3_moe", "deepseek_v3", "glm4_moe"]

    private struct Expected: Decodable {
        var text: String
        var input_ids: [Int32]
    }

    private func lines(_ path: String) throws -> [Data] {
        try Data(contentsOf: URL(fileURLWithPath: path)).split(separator: 0x0A).map { Data($0) }
    }

    private func expected(_ family: String) throws -> [Expected] {
        try lines(FixturePaths.fixture("chat/\(family)/expected.jsonl")).map { try JSONDecoder().decode(Expected.self, from: $0) }
    }

    func testRenderedTextEqualsTransformers() throws {
        for family in Self.families {
            let folder = FixturePaths.fixture("chat/\(family)")
            let template = try XCTUnwrap(try ChatTemplate.find(folder: folder), family)
            let conversations = try lines(folder + "/conversations.jsonl")
            let expected = try expected(family)
            XCTAssertEqual(conversations.count, expected.count, family)
            for (conversation, want) in zip(conversations, expected) {
                guard case .success(let document) = JSONCDocument.parse(Array(conversation)) else { return XCTFail(family) }
                let rendered = try template.render(messages: try JinjaValue(XCTUnwrap(document.root["messages"])), maxBytes: 1 << 20)
                XCTAssertEqual(rendered, Array(want.text.utf8), family)
            }
        }
    }

    /// The executable reads `messages` records with the template beside the tokenizer, adding no special
    /// tokens of its own.
    func testTokenizeChatRecordsEqualsTokenizers() throws {
        for family in Self.families {
            let folder = FixturePaths.fixture("chat/\(family)")
            let result = try CommandRunner.run(["tokenize", "--tokenizer", folder + "/tokenizer.json", folder + "/conversations.jsonl"])
            XCTAssertEqual(result.status, 0, result.stderr)
            let want = try expected(family).map { "{\"input_ids\": [" + $0.input_ids.map(String.init).joined(separator: ", ") + "]}\n" }.joined()
            XCTAssertEqual(result.stdout, want, family)
        }
    }

    /// calibrate counts exactly the tokens of the rendered conversations, and records the template it used.
    func testCalibrateCountsChatRecords() throws {
        let chat = FixturePaths.fixture("chat/mixtral")
        let counts = FileManager.default.temporaryDirectory.appendingPathComponent("chat-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: counts) }
        let result = try CommandRunner.run([
            "calibrate", FixturePaths.fixture("tiny-mixtral"), "--data", chat + "/conversations.jsonl",
            "--chat-template", chat + "/tokenizer_config.json", "-o", counts,
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        let file = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: counts))) as? [String: Any])
        XCTAssertEqual(file["tokens"] as? Int, try expected("mixtral").map(\.input_ids.count).reduce(0, +))
        XCTAssertEqual(file["sequences"] as? Int, 2)
        XCTAssertEqual((file["settings"] as? [String: Any])?["chat_template"] as? String, chat + "/tokenizer_config.json")
    }

    func testRaiseExceptionIsTheRecordsError() throws {
        let folder = FixturePaths.fixture("chat/mixtral")
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("chat-\(UUID()).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        try Data(#"{"messages": [{"role": "assistant", "content": "hi"}]}"#.utf8).write(to: URL(fileURLWithPath: data))
        let result = try CommandRunner.run(["tokenize", "--tokenizer", folder + "/tokenizer.json", data])
        XCTAssertEqual(result.status, 65)
        XCTAssertEqual(result.stderr, "moe-slim: error: \(data): line 1: chat template \(folder)/tokenizer_config.json: the template raised: Conversation roles must alternate user/assistant/user/assistant/...\n")
    }

    func testMissingTemplateAndUnimplementedFeatureAreNamed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chat-\(UUID())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: FixturePaths.fixture("tiny-mixtral/tokenizer.json"), toPath: dir + "/tokenizer.json")
        try Data(#"{"messages": [{"role": "user", "content": "hi"}]}"#.utf8).write(to: URL(fileURLWithPath: dir + "/c.jsonl"))
        var result = try CommandRunner.run(["tokenize", "--tokenizer", dir + "/tokenizer.json", dir + "/c.jsonl"])
        XCTAssertEqual(result.status, 65)
        XCTAssertEqual(result.stderr, "moe-slim: error: \(dir)/c.jsonl: line 1: a chat record ('messages') needs the model's chat template: chat_template.jinja or the chat_template of tokenizer_config.json beside the model, or --chat-template FILE\n")

        try Data("{% for m in messages %}{{ m.content | wordwrap(5) }}{% endfor %}".utf8).write(to: URL(fileURLWithPath: dir + "/t.jinja"))
        result = try CommandRunner.run(["tokenize", "--tokenizer", dir + "/tokenizer.json", "--chat-template", dir + "/t.jinja", dir + "/c.jsonl"])
        XCTAssertEqual(result.status, 65)
        XCTAssertEqual(result.stderr, "moe-slim: error: \(dir)/c.jsonl: line 1: chat template \(dir)/t.jinja: the 'wordwrap' filter is not implemented\n")

        try Data("{% include 'x' %}".utf8).write(to: URL(fileURLWithPath: dir + "/t.jinja"))
        result = try CommandRunner.run(["tokenize", "--tokenizer", dir + "/tokenizer.json", "--chat-template", dir + "/t.jinja", dir + "/c.jsonl"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.hasSuffix("\(dir)/t.jinja: chat template: the {% include %} tag is not implemented\n"), result.stderr)
    }

    /// Loops and output are bounded whatever the template does.
    func testBounds() throws {
        let tokens = try JinjaLexer.tokenize("{% for i in range(100) %}{% for j in range(100) %}x{% endfor %}{% endfor %}")
        var renderer = JinjaRenderer(globals: [:], limits: .init(outputBytes: 1 << 30, iterations: 1000))
        XCTAssertThrowsError(try renderer.render(try JinjaParser.parse(tokens))) { error in
            XCTAssertEqual((error as? ChatTemplateFailure)?.reason, "more than 1000 loop iterations")
        }
        var small = JinjaRenderer(globals: [:], limits: .init(outputBytes: 10))
        XCTAssertThrowsError(try small.render(try JinjaParser.parse(try JinjaLexer.tokenize("{% for i in range(20) %}x{% endfor %}")))) { error in
            XCTAssertEqual((error as? ChatTemplateFailure)?.reason, "the rendered text is over 10 bytes")
        }
        let deep = String(repeating: "(", count: 500) + "1" + String(repeating: ")", count: 500)
        XCTAssertThrowsError(try JinjaParser.parse(try JinjaLexer.tokenize("{{ \(deep) }}")))
        let recursive = "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}"
        var r = JinjaRenderer(globals: [:], limits: .init(outputBytes: 1 << 20))
        XCTAssertThrowsError(try r.render(try JinjaParser.parse(try JinjaLexer.tokenize(recursive)))) { error in
            XCTAssertEqual((error as? ChatTemplateFailure)?.reason, "macros nested more than 64 calls deep")
        }
    }

    /// A few characters of Jinja can ask for terabytes or nest values until freeing them overflows the stack;
    /// each of these crashed or hung the renderer before JinjaBounds, and each now ends with one error.
    func testHostileTemplatesEndWithAnError() throws {
        let string = "a string longer than 16777216 bytes"
        let cases: [(template: String, reason: String)] = [
            ("{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", string),
            ("{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s + ns.s %}{% endfor %}", string),
            ("{{ ('x' * 1000000) * 1000000 }}", string),
            ("{{ range(100000) | join('x' * 1000) }}", string),
            ("{% set a = 'x' * 100000 %}{{ a | replace('x', a) }}", string),
            ("{% set ns = namespace(x=[1]) %}{% for i in range(60) %}{% set ns.x = ns.x + ns.x %}{% endfor %}", "a list longer than 1048576 items"),
            ("{% set ns = namespace(x=[]) %}{% for i in range(100) %}{% set ns.x = [ns.x] %}{% endfor %}", "lists, dicts or namespaces nested more than 32 deep"),
            ("{% set ns = namespace(a=1) %}{% set ns.a = [ns] %}{{ [ns] }}", "lists, dicts or namespaces nested more than 32 deep"),
            ("{{ [1] | tojson(indent=100000000000) }}", "tojson indent must be between 0 and 1024"),
            ("{% set ns = namespace(x=[1, 2]) %}{% for i in range(30) %}{% set ns.x = [ns.x, ns.x] %}{% endfor %}", "the template does more than 1000000 steps of work"),
            ("{% set big = range(10000) | list %}{% for i in range(1000) %}{{ -1 in big }}{% endfor %}", "the template does more than 1000000 steps of work"),
        ]
        for (template, reason) in cases {
            var limits = JinjaRenderer.Limits(outputBytes: 1 << 30)
            if reason.hasPrefix("the template does more") { limits.work = 1_000_000 }
            var renderer = JinjaRenderer(globals: [:], limits: limits)
            XCTAssertThrowsError(try renderer.render(try JinjaParser.parse(try JinjaLexer.tokenize(template))), template) { error in
                XCTAssertEqual((error as? ChatTemplateFailure)?.reason, reason, template)
            }
        }
    }

    func testFindIsPythonsFind() {
        let text = Array("abababcabc".utf8)
        XCTAssertEqual(JinjaBounds.find(text, Array("abc".utf8), from: 0), 4)
        XCTAssertEqual(JinjaBounds.find(text, Array("abc".utf8), from: 5), 7)
        XCTAssertEqual(JinjaBounds.find(text, Array("abd".utf8), from: 0), nil)
        XCTAssertEqual(JinjaBounds.find(text, Array("c".utf8), from: 10), nil)
        XCTAssertEqual(JinjaBounds.find(Array("aaab".utf8), Array("aab".utf8), from: 0), 1)
    }
}
