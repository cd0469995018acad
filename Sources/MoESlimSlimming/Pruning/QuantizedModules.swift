import MoESlimSupport
import MoESlimFamilies

/// The module lists of a quantized checkpoint's `quantization_config` (fp8's `modules_to_not_convert`,
/// compressed-tensors' `ignore` and each config group's `targets`) name modules by path, expert numbers included.
/// After a prune those numbers must follow the experts: a list that still named `experts.5` would leave a
/// different expert unconverted, and transformers would then load quantized bytes as plain weights (or the
/// reverse). A removed expert's entries go, a kept expert's get its new number, every other entry stays as it is.
/// An entry that might name an expert number in any other way (a regular expression, a suffix such as
/// `experts.3.down_proj`) cannot be renumbered safely, so it is refused by name rather than guessed at.
enum QuantizedModules {
    /// `config` (the whole config.json) with its `quantization_config` lists renumbered; unchanged when the config
    /// has none or the plan keeps every expert.
    static func rewritten(_ config: JSONValue, model: ModelDescription, plan: PruningPlan, path: String) throws(MoESlimError) -> JSONValue {
        guard var quantization = config["quantization_config"], quantization.objectMembers != nil,
              model.moeLayers.contains(where: { plan.keptExperts(layer: $0).count != $0.numExperts })
        else { return config }
        let layers = model.moeLayers.compactMap { layer -> (prefix: String, newIndex: [Int: Int])? in
            guard case .separate(let prefix, _) = layer.experts else { return nil }
            return (prefix, Dictionary(uniqueKeysWithValues: plan.keptExperts(layer: layer).enumerated().map { ($1, $0) }))
        }
        func list(_ value: JSONValue, key: String) throws(MoESlimError) -> JSONValue {
            guard let entries = value.arrayValue else { return value }
            var out: [JSONValue] = []
            for entry in entries {
                guard let name = entry.stringValue else {
                    out.append(entry)
                    continue
                }
                switch renumbered(name, layers: layers) {
                case .keep(let kept): out.append(.string(kept))
                case .drop: break
                case .refuse:
                    throw MoESlimError(
                        .invalidConfig,
                        "quantization_config.\(key) entry '\(name)' may name an expert by number in a way prune cannot renumber (a pattern or a suffix); list the experts' modules by their full names (or none) before pruning",
                        path: path)
                }
            }
            return .array(out)
        }
        for key in ["modules_to_not_convert", "ignore"] {
            if let value = quantization[key] { quantization.set(key, try list(value, key: key)) }
        }
        if var groups = quantization["config_groups"], let members = groups.objectMembers {
            for (name, group) in members {
                guard let targets = group["targets"] else { continue }
                var group = group
                group.set("targets", try list(targets, key: "config_groups.\(name).targets"))
                groups.set(name, group)
            }
            quantization.set("config_groups", groups)
        }
        var out = config
        out.set("quantization_config", quantization)
        return out
    }

    enum Outcome: Equatable {
        case keep(String)
        case drop
        case refuse
    }

    /// A full module path under a layer's `experts.` prefix with a plain expert number (`…experts.5` or
    /// `…experts.5.down_proj`) is renumbered or dropped; any other entry with a digit after the word "expert"
    /// (`re:.*experts\.5\..*`, `experts.3.down_proj`, `…experts.[0-3]`) is refused; the rest stays.
    static func renumbered(_ entry: String, layers: [(prefix: String, newIndex: [Int: Int])]) -> Outcome {
        for layer in layers where entry.hasBytePrefix(layer.prefix) {
            let rest = Array(entry.utf8.dropFirst(layer.prefix.utf8.count))
            let digits = rest.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            let tail = rest.dropFirst(digits.count)
            guard !digits.isEmpty, tail.first.map({ $0 == UInt8(ascii: ".") }) ?? true else { break }
            guard digits.count == 1 || digits.first != UInt8(ascii: "0"), digits.count <= 9,
                  let old = Int(String(decoding: digits, as: UTF8.self))
            else { return .refuse }
            guard let new = layer.newIndex[old] else { return .drop }
            return .keep(layer.prefix + String(new) + String(decoding: tail, as: UTF8.self))
        }
        let bytes = Array(entry.utf8), word = Array("expert".utf8)
        guard bytes.count >= word.count,
              let start = (0...(bytes.count - word.count)).first(where: { bytes[$0 ..< $0 + word.count].elementsEqual(word) })
        else { return .keep(entry) }
        let digitAfter = bytes[(start + word.count)...].contains { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        return digitAfter ? .refuse : .keep(entry)
    }
}
