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
    /// L2 norm of each selected expert's output as the layer computes it (its down projection, with the bias
    /// where the family has one), before the gate weight combines it: EAN's term. Llama-4's expert sees the
    /// weighted input, so there it is the norm of expert(weight · x), what the expert adds.
    public var expertOutputNorms: [Float]
    /// The largest |component| of the same output, for finding super experts.
    public var expertOutputMaxima: [Float]
    /// OutputSketch.width numbers per token and slot, row-major [tokens, topK, width]: the random projection of
    /// the same output (OutputSketch), whose sums per expert give the counts' `output_sketch`. Empty when the
    /// outputs are not measured.
    public var expertOutputSketches: [Float]

    /// The largest saliency term (gate weight × ‖expert output‖) one token may add: router probabilities are at
    /// most 1, and beyond 2⁴⁰ the model is broken. The forward pass refuses larger terms, so the counts' exact
    /// sums (`ExactSums.largestTerm`) never trap.
    package static let largestTerm: Float = 0x1p40
}
