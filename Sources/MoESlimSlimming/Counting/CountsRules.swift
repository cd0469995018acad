import MoESlimSupport
import MoESlimFamilies
import MoESlimEngine

/// The rules of formats/counts.md that a counts file must meet before anything adds or ranks its numbers: a
/// hand-edited or hostile file with fractional hard counts, layers its fingerprint does not have, or hard counts
/// that are not top-k per token would otherwise be merged and pruned from as if calibrate had written it.
enum CountsRules {
    static func check(_ counts: ExpertCounts, path: String) throws(MoESlimError) {
        func fail(_ message: String) -> MoESlimError { MoESlimError(.invalidCounts, message, path: path) }
        guard let shape = FingerprintLayers(counts.fingerprint) else {
            throw fail("fingerprint '\(counts.fingerprint)' is not <model_type>/L<layers>/H<hidden>/V<vocab>/E[<layer>:<experts>,…]")
        }
        guard counts.sequences <= counts.tokens else {
            throw fail("sequences is \(counts.sequences), more than tokens (\(counts.tokens)); every sequence has a token")
        }
        try checkLayers(counts.layers, at: "layers", tokens: counts.tokens, exactTokens: true, shape: shape, fail: fail)
        for (name, layers) in (counts.groups ?? [:]).sorted(by: { $0.key < $1.key }) {
            try checkLayers(layers, at: "groups['\(name)']", tokens: counts.tokens, exactTokens: false, shape: shape, fail: fail)
        }
    }

    /// Each token picks top-k experts, so a layer's hard counts add up to its tokens × top-k.
    static func checkTopK(_ counts: ExpertCounts, model: ModelDescription, path: String) throws(MoESlimError) {
        for (i, layer) in counts.layers.enumerated() {
            guard let topK = model.moeLayer(layer.layer)?.topK else { continue }
            let sum = layer.hard.reduce(0, +)
            guard sum == Double(layer.tokens) * Double(topK) else {
                throw MoESlimError(.invalidCounts, "layers[\(i)].hard sums to \(CountsJSON.number(sum).serialized()), not tokens \(layer.tokens) × top-k \(topK) of the model", path: path)
            }
        }
    }

    /// The layer list the fingerprint announces, each layer once with its expert count; `exactTokens`: every
    /// token passes every MoE layer (false for groups, which hold some of the tokens).
    private static func checkLayers(
        _ layers: [ExpertCounts.Layer], at key: String, tokens: Int, exactTokens: Bool, shape: FingerprintLayers,
        fail: (String) -> MoESlimError
    ) throws(MoESlimError) {
        let listed = layers.map { "\($0.layer):\($0.hard.count)" }.joined(separator: ",")
        guard layers.map(\.layer) == shape.layers.map(\.layer), layers.map(\.hard.count) == shape.layers.map(\.experts) else {
            throw fail("\(key) has layers:experts [\(listed)] but the fingerprint says [\(shape.text)]")
        }
        var topK: Double?
        for (i, l) in layers.enumerated() {
            let at = "\(key)[\(i)]"
            let n = l.hard.count
            if let missing = ExpertStatistic.allCases.first(where: { layers[0].sums[$0].isEmpty != l.sums[$0].isEmpty }) {
                throw fail("\(at) \(l.sums[missing].isEmpty ? "has no" : "has") \(missing.key) but \(key)[0] \(l.sums[missing].isEmpty ? "has" : "has not"); a statistic is in every layer or in none")
            }
            let lists = ExpertStatistic.allCases.filter { $0.scope != .layer && !l.sums[$0].isEmpty }
            guard lists.allSatisfy({ l.sums[$0].count == $0.width(experts: n) }) else {
                let lengths = lists.map { "\($0.key) \($0.scope == .expertVector ? l.sums[$0].count / OutputSketch.width : l.sums[$0].count)" }.joined(separator: ", ")
                throw fail("\(at) has lists of different lengths (\(lengths))")
            }
            if let exact = l.exact, !ExactSums.statistics.allSatisfy({ exact.units[$0].count == (l.sums[$0].isEmpty ? 0 : $0.width(experts: n)) }) {
                throw fail("\(at).exact has lists of another length than hard (\(n)), or has a statistic the layer has not")
            }
            if exactTokens ? l.tokens != tokens : l.tokens > tokens {
                throw fail("\(at).tokens is \(l.tokens) but the file's tokens is \(tokens)")
            }
            for (j, h) in l.hard.enumerated() {
                guard h == h.rounded() else { throw fail("\(at).hard[\(j)] is \(h), not a whole number of tokens") }
                guard h <= Double(l.tokens) else { throw fail("\(at).hard[\(j)] is \(CountsJSON.number(h).serialized()), more than the layer's \(l.tokens) tokens") }
            }
            guard l.tokens > 0 else { continue }
            let sum = l.hard.reduce(0, +)
            let k = (sum / Double(l.tokens)).rounded()
            guard sum == k * Double(l.tokens), k >= 1, topK.map({ $0 == k }) ?? true else {
                let expected = topK.map { "tokens \(l.tokens) × top-k \(Int($0))" } ?? "a multiple of its \(l.tokens) tokens"
                throw fail("\(at).hard sums to \(CountsJSON.number(sum).serialized()), not \(expected)")
            }
            topK = k
        }
    }
}

/// The `E[<layer>:<experts>,…]` part of a fingerprint, and the layer count before it.
struct FingerprintLayers {
    let layers: [(layer: Int, experts: Int)]
    let text: String

    init?(_ fingerprint: String) {
        let parts = fingerprint.byteSplit("/")
        guard parts.count >= 5, let last = parts.last, last.hasBytePrefix("E["), last.hasByteSuffix("]"),
              parts[parts.count - 4].hasBytePrefix("L"), let count = parts[parts.count - 4].dropBytes(1).plainIndex
        else { return nil }
        text = last.dropBytes(2).dropLastBytes(1)
        var layers: [(layer: Int, experts: Int)] = []
        for item in text.byteSplit(",", omittingEmpty: true) {
            let pair = item.byteSplit(":")
            guard pair.count == 2, let layer = pair[0].plainIndex, let experts = pair[1].plainIndex, layer < count,
                  layers.last.map({ $0.layer < layer }) ?? true else { return nil }
            layers.append((layer, experts))
        }
        self.layers = layers
    }
}
