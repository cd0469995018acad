/// A chunk of whole sequences laid end to end: rows of every activation matrix are tokens, and attention
/// never crosses a sequence boundary.
struct TokenBatch {
    var tokens: [Int32] = []
    var starts: [Int] = []
    var lengths: [Int] = []
    /// Each token's position inside its own sequence, which is what RoPE sees.
    var positions: [Int] = []

    /// Each token's sequence length, for rotary scalings that depend on it.
    var sequenceLengths: [Int] = []

    var count: Int { tokens.count }

    mutating func append(_ sequence: [Int32]) {
        starts.append(tokens.count)
        lengths.append(sequence.count)
        tokens += sequence
        positions += 0..<sequence.count
        sequenceLengths += repeatElement(sequence.count, count: sequence.count)
    }
}
