/// What one MoE layer's router did to one chunk of tokens: everything the counts need and the golden tests
/// compare. Row-major [tokens, experts] or [tokens, topK].
public struct RoutingRecord: Sendable {
    public var layer: Int
    public var tokens: Int
    public var experts: Int
    public var topK: Int
    /// Raw router logits, including the router bias where the family has one.
    public var logits: [Float]
    /// The router's own per-expert probability before selection (softmax or sigmoid); for routers that take
    /// top-k of the logits first, the combine weights of the chosen experts and zero elsewhere.
    public var scores: [Float]
    public var selected: [Int32]
    /// Combine weights of the selected experts, after renormalisation and routed scaling.
    public var weights: [Float]
    /// L2 norm of each selected expert's output on that token per unit of gate weight, so weight × norm is the
    /// norm of what the expert adds (Llama-4 weights the expert's input, so its output is divided back).
    public var outputNorms: [Float]

    /// The largest saliency term (gate weight × ‖expert output‖) one token may add: router probabilities are at
    /// most 1, and beyond 2⁴⁰ the model is broken. The forward pass refuses larger terms, so the counts' exact
    /// sums (`ExactSums.largestTerm`) never trap.
    package static let largestTerm: Float = 0x1p40
}
