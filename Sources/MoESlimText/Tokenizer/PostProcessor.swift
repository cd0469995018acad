/// The `post_processor` section, as applied by `encode(text)` with its default `add_special_tokens=True`:
/// the single-sequence template adds BOS/EOS ids; ByteLevel only trims offsets, so it leaves ids alone.
indirect enum PostProcessor {
    case sequence([PostProcessor])
    case template([TemplateItem])
    case byteLevel

    enum TemplateItem {
        case sequence
        case special([Int32])
    }

    static func parse(_ node: JSONCNode) throws(TokenizerLoadError) -> PostProcessor? {
        if node.isNull { return nil }
        guard let type = node["type"]?.string else { throw TokenizerLoadError("post_processor without a type") }
        switch type {
        case "Sequence":
            guard let items = node["processors"]?.array else {
                throw TokenizerLoadError("post_processor Sequence without 'processors'")
            }
            var parsed: [PostProcessor] = []
            for item in items { if let p = try parse(item) { parsed.append(p) } }
            return .sequence(parsed)
        case "ByteLevel":
            return .byteLevel
        case "TemplateProcessing":
            return .template(try parseTemplate(node))
        default:
            throw TokenizerLoadError("unsupported post_processor '\(type)'")
        }
    }

    private static func parseTemplate(_ node: JSONCNode) throws(TokenizerLoadError) -> [TemplateItem] {
        var specials: [String: [Int32]] = [:]
        for (key, value) in node["special_tokens"]?.members ?? [] {
            guard let ids = value["ids"]?.array?.compactMap(\.int) else {
                throw TokenizerLoadError("TemplateProcessing special token without 'ids'")
            }
            specials[String(decoding: key, as: UTF8.self)] = ids.map(Int32.init)
        }
        guard let single = node["single"]?.array else {
            throw TokenizerLoadError("TemplateProcessing without 'single'")
        }
        var items: [TemplateItem] = []
        for item in single {
            if let sequence = item["Sequence"] {
                guard sequence["id"]?.string == "A" else {
                    throw TokenizerLoadError("TemplateProcessing 'single' refers to sequence B")
                }
                items.append(.sequence)
            } else if let name = item["SpecialToken"]?["id"]?.string {
                guard let ids = specials[name] else {
                    throw TokenizerLoadError("TemplateProcessing uses undefined special token \(quoted(name))")
                }
                items.append(.special(ids))
            } else {
                throw TokenizerLoadError("TemplateProcessing item is neither Sequence nor SpecialToken")
            }
        }
        return items
    }

    func apply(_ ids: [Int32]) -> [Int32] {
        switch self {
        case .sequence(let items):
            return items.reduce(ids) { $1.apply($0) }
        case .byteLevel:
            return ids
        case .template(let items):
            var out: [Int32] = []
            out.reserveCapacity(ids.count + 2)
            for item in items {
                switch item {
                case .sequence: out.append(contentsOf: ids)
                case .special(let special): out.append(contentsOf: special)
                }
            }
            return out
        }
    }
}
