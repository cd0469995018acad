import Foundation
import MoESlimSupport

/// A model's chat template, rendered as transformers' `tokenizer.apply_chat_template(messages, tokenize=False)`
/// renders it: Jinja with trim_blocks and lstrip_blocks, `messages`, `add_generation_prompt=False`,
/// `tools=None`, `documents=None` and the special tokens of tokenizer_config.json (`bos_token`, …).
///
/// A class so the parsed template is shared, not copied, by every record; it is never mutated after init,
/// hence `@unchecked Sendable`.
public final class ChatTemplate: @unchecked Sendable {
    /// The file the template came from, for errors.
    public let path: String
    private let body: [JinjaStatement]
    private let specialTokens: [(String, String)]

    /// Templates are a few KiB; this bounds a hostile one before it is parsed.
    static let maxTemplateBytes = 1 << 20

    init(source: String, path: String, specialTokens: [(String, String)]) throws(MoESlimError) {
        self.path = path
        self.specialTokens = specialTokens
        guard source.utf8.count <= Self.maxTemplateBytes else {
            throw MoESlimError(.invalidTokenizer, "chat template is over \(Self.maxTemplateBytes) bytes", path: path)
        }
        do {
            body = try JinjaParser.parse(try JinjaLexer.tokenize(source))
        } catch {
            throw MoESlimError(.invalidTokenizer, "chat template: \(error.reason)", path: path)
        }
    }

    /// The template transformers would use for a model folder: `chat_template.jinja`, else the
    /// `chat_template` of `tokenizer_config.json` (a string, or the entry named "default" of a list); nil
    /// when the folder has neither.
    public static func find(folder: String) throws(MoESlimError) -> ChatTemplate? {
        let config = try TokenizerConfig(folder: folder)
        let jinja = folder + "/chat_template.jinja"
        if FileManager.default.fileExists(atPath: jinja) {
            return try ChatTemplate(source: try readText(jinja), path: jinja, specialTokens: config.specialTokens)
        }
        guard let source = config.template else { return nil }
        return try ChatTemplate(source: source, path: config.path, specialTokens: config.specialTokens)
    }

    /// `--chat-template FILE`: a tokenizer_config.json with a `chat_template` (and its special tokens), or a
    /// `.jinja` file, whose special tokens come from `tokenizerFolder`'s tokenizer_config.json (the model's).
    public static func load(file: String, tokenizerFolder: String?) throws(MoESlimError) -> ChatTemplate {
        if file.lowercased().hasSuffix(".json") {
            let own = try TokenizerConfig(file: file)
            guard let source = own.template else {
                throw MoESlimError(.invalidTokenizer, "no chat_template in this file", path: file)
            }
            return try ChatTemplate(source: source, path: file, specialTokens: own.specialTokens)
        }
        let config = try tokenizerFolder.map { f throws(MoESlimError) in try TokenizerConfig(folder: f) }
        return try ChatTemplate(source: try readText(file), path: file, specialTokens: config?.specialTokens ?? [])
    }

    private static func readText(_ path: String) throws(MoESlimError) -> String {
        let bytes = try InputFile.read(path, as: .tokenizer)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw MoESlimError(.invalidTokenizer, "chat template is not valid UTF-8", path: path)
        }
        return text
    }

    /// The conversation as text; `maxBytes` bounds the output (the record limit).
    func render(messages: JinjaValue, maxBytes: Int) throws(ChatTemplateFailure) -> [UInt8] {
        var globals: [String: JinjaValue] = [
            "messages": messages, "add_generation_prompt": .bool(false), "tools": .none, "documents": .none,
        ]
        for (name, value) in specialTokens { globals[name] = .string(value) }
        var renderer = JinjaRenderer(globals: globals, limits: .init(outputBytes: maxBytes))
        return try renderer.render(body)
    }
}

/// The parts of tokenizer_config.json a chat template reads: the template itself and the special tokens.
struct TokenizerConfig {
    var path: String
    var template: String?
    var specialTokens: [(String, String)] = []

    static let specialTokenKeys = [
        "bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token",
    ]

    /// A folder without tokenizer_config.json has no template and no special tokens.
    init(folder: String) throws(MoESlimError) {
        let file = folder + "/tokenizer_config.json"
        if FileManager.default.fileExists(atPath: file) {
            try self.init(file: file)
        } else {
            self.init(path: file)
        }
    }

    private init(path: String) { self.path = path }

    init(file: String) throws(MoESlimError) {
        path = file
        let document: JSONCDocument
        switch JSONCDocument.parse(try InputFile.read(file, as: .tokenizer)) {
        case .success(let d): document = d
        case .failure(let f): throw MoESlimError(.invalidTokenizer, "invalid JSON: \(f)", path: file)
        }
        let root = document.root
        guard root.isObject else { throw MoESlimError(.invalidTokenizer, "not a JSON object", path: file) }
        for key in Self.specialTokenKeys {
            guard let node = root[key], !node.isNull else { continue }
            guard let text = node.string ?? node["content"]?.string else {
                throw MoESlimError(.invalidTokenizer, "\(key) is neither a string nor {\"content\": string}", path: file)
            }
            specialTokens.append((key, text))
        }
        if let node = root["chat_template"], !node.isNull {
            if let text = node.string {
                template = text
            } else if let entries = node.array,
                let entry = entries.first(where: { $0["name"]?.string.map { $0.utf8.elementsEqual("default".utf8) } ?? false }),
                let text = entry["template"]?.string
            {
                template = text
            } else {
                throw MoESlimError(.invalidTokenizer, "chat_template is neither a string nor a list with a \"default\" entry", path: file)
            }
        }
    }
}

extension JinjaValue {
    /// A record's JSON as the template sees it (json.loads): objects keep their order.
    init(_ node: JSONCNode) throws(ChatTemplateFailure) {
        if node.isNull { self = .none }
        else if let s = node.string { self = .string(s) }
        else if let b = node.bool { self = .bool(b) }
        else if let i = node.int { self = .int(i) }
        else if let d = node.double { self = .float(d) }
        else if let items = node.array {
            var values: [JinjaValue] = []
            for item in items { values.append(try JinjaValue(item)) }
            self = .list(values)
        } else if let members = node.members {
            var pairs: [(key: String, value: JinjaValue)] = []
            for (key, value) in members { pairs.append((String(decoding: key, as: UTF8.self), try JinjaValue(value))) }
            self = .dict(pairs)
        } else {
            throw ChatTemplateFailure("unsupported JSON value")
        }
    }
}
