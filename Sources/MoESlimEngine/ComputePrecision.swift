/// How the engine multiplies by weights stored as bf16. Weights stored in any other type always multiply in f32.
public enum ComputePrecision: String, Sendable, CaseIterable {
    /// Activations rounded to bf16, products accumulated in f32, the weights read in place: what torch does for
    /// a bf16 model on a CPU with bf16 units, at twice the speed of f32 here and with no widened copy in memory.
    case bf16
    /// Every product in f32 on widened weights: matches transformers run in float32, at half the speed.
    case f32
}
