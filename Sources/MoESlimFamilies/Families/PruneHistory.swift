import MoESlimSupport

/// What prune recorded in config.json's `moe_slim` section: each layer's expert count after a global plan
/// (`experts_per_layer`) and which original experts each layer kept (`kept_experts`). A config from elsewhere may
/// carry any bytes here, and both feed later work (describe's expert counts, the ids a second prune composes),
/// so both are checked against the layers and counts the config states before anything trusts them.
struct PruneHistory {
    private let counts: [Int: Int]
    private let numExperts: Int

    init(_ config: JSONValue, moeLayers: [Int], numExperts: Int, path: String) throws(MoESlimError) {
        self.numExperts = numExperts
        let section = config["moe_slim"]
        let layers = Set(moeLayers)
        counts = try Self.counts(section?["experts_per_layer"], layers: layers, numExperts: numExperts, path: path)
        if let kept = section?["kept_experts"] {
            try Self.checkKept(kept, moeLayers: moeLayers, counts: counts, numExperts: numExperts, path: path)
        }
    }

    /// The expert count of a MoE layer.
    func experts(_ layer: Int) -> Int { counts[layer] ?? numExperts }

    /// The layer a key names, written as prune writes it: plain decimal digits, no sign or leading zero.
    private static func layer(_ key: String, in layers: Set<Int>) -> Int? {
        guard let n = key.plainIndex, layers.contains(n) else { return nil }
        return n
    }

    private static func counts(_ entries: JSONValue?, layers: Set<Int>, numExperts: Int, path: String) throws(MoESlimError) -> [Int: Int] {
        guard let entries else { return [:] }
        guard let members = entries.objectMembers else {
            throw MoESlimError(.invalidConfig, "moe_slim.experts_per_layer is not an object", path: path)
        }
        var counts: [Int: Int] = [:]
        for (key, value) in members {
            guard let layer = layer(key, in: layers) else {
                throw MoESlimError(.invalidConfig, "moe_slim.experts_per_layer names layer \(JSONValue.quote(key)), which is not a MoE layer", path: path)
            }
            guard let n = value.intValue, (1...max(numExperts, 1)).contains(n) else {
                throw MoESlimError(.invalidConfig, "moe_slim.experts_per_layer[\"\(key)\"] is \(ConfigValues.literal(value)); it must be between 1 and the config's \(numExperts) experts", path: path)
            }
            counts[layer] = n
        }
        return counts
    }

    /// Every MoE layer listed once, with as many ids as the layer has experts, strictly increasing.
    private static func checkKept(
        _ kept: JSONValue, moeLayers: [Int], counts: [Int: Int], numExperts: Int, path: String
    ) throws(MoESlimError) {
        func fail(_ message: String) -> MoESlimError { MoESlimError(.invalidConfig, "moe_slim.kept_experts" + message, path: path) }
        guard let members = kept.objectMembers else { throw fail(" is not an object") }
        let layers = Set(moeLayers)
        var listed = Set<Int>()
        for (key, value) in members {
            guard let layer = layer(key, in: layers) else { throw fail(" names layer \(JSONValue.quote(key)), which is not a MoE layer") }
            listed.insert(layer)
            let expected = counts[layer] ?? numExperts
            guard let items = value.arrayValue else { throw fail("[\"\(key)\"] is not a list") }
            guard items.count == expected else {
                throw fail("[\"\(key)\"] lists \(items.count) experts but layer \(layer) has \(expected)")
            }
            var previous = -1
            for item in items {
                guard let id = item.intValue, id > previous, id < ConfigLimits.maxExperts else {
                    throw fail("[\"\(key)\"] must list expert ids in strictly increasing order, each in 0..<\(ConfigLimits.maxExperts)")
                }
                previous = id
            }
        }
        if let missing = moeLayers.first(where: { !listed.contains($0) }) {
            throw fail(" has no entry for MoE layer \(missing)")
        }
    }
}
