/// `scale · B[bRows, bColumns] @ A[aRows, :]`: the part of an adapter's low-rank product that lands on one stored
/// tensor. Selecting rows and columns is how one fused-expert adapter (factors for all experts interleaved, as
/// PEFT's ParamWrapper reshapes them) splits back onto per-expert tensors and onto the gate and up halves.
struct LowRankDelta: Sendable {
    var a: AdapterFolder.Tensor
    var b: AdapterFolder.Tensor
    var aRows: Range<Int>
    var bColumns: [Int]
    var bRows: Range<Int>
    /// PEFT's scaling as the f32 it multiplies by (torch casts the Python float to the tensor's type).
    var scale: Float
    /// The stored tensor is (in, out): fan_in_fan_out, embeddings, transposed fused experts.
    var transposed: Bool

    var outRows: Int { bRows.count }
    var inColumns: Int { a.shape[1] }
}

/// One change to one stored tensor, in the order PEFT makes it.
enum TensorEdit: Sendable {
    /// modules_to_save copies and saved `base_layer` weights: the tensor becomes the adapter's.
    case replace(AdapterFolder.Tensor)
    /// W + ΔW. `deltaRoundedFirst`: PEFT casts ΔW to the weight's dtype before adding (embeddings, target_parameters).
    case add(LowRankDelta, deltaRoundedFirst: Bool)
    /// DoRA: m / ‖W₀ + ΔW‖ · (W + ΔW), the norm per output feature over the unmerged weight.
    case dora(LowRankDelta, magnitude: AdapterFolder.Tensor)
    /// lora_bias: b + scale · lora_B.bias.
    case addBias(AdapterFolder.Tensor, scale: Float)
}

struct PlannedEdit: Sendable {
    /// The expert index along axis 0 when the stored tensor is a fused expert stack.
    var slice: Int?
    var edit: TensorEdit
}
