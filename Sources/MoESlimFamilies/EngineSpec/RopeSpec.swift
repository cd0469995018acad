public struct RopeSpec: Sendable {
    public var inverseFrequencies: [Float]
    /// yarn's attention factor, multiplied into cos and sin.
    public var attentionFactor: Float
    public var layout: RopeLayout
    /// longrope: what sequences longer than `above` tokens use instead (transformers switches on the
    /// sequence length, and calibrate runs each record as its own sequence).
    public var long: LongRope?
}

public struct LongRope: Sendable {
    public var inverseFrequencies: [Float]
    public var attentionFactor: Float
    public var above: Int
}

public enum RopeLayout: Sendable {
    /// x_i rotates with x_{i + d/2} by frequency i (rotate_half; most families).
    case halves
    /// Adjacent pairs (x_{2i}, x_{2i+1}) rotate by frequency i (DeepSeek, ERNIE 4.5).
    case pairs
}
