/// A SiLU-gated MLP stored as three Linear weights ([out, in]).
public struct GatedMLPNames: Sendable {
    public var prefix: String
    public var gate: String
    public var up: String
    public var down: String

    public init(prefix: String, gate: String, up: String, down: String) {
        self.prefix = prefix
        self.gate = gate
        self.up = up
        self.down = down
    }
}

public struct SharedExpertSpec: Sendable {
    public var mlp: GatedMLPNames
    /// qwen2_moe multiplies the shared expert by sigmoid(x · gate); DeepSeek adds it ungated.
    public var gate: String?

    public init(mlp: GatedMLPNames, gate: String? = nil) {
        self.mlp = mlp
        self.gate = gate
    }
}

/// How the routed experts are stored and what their activation is.
public enum ExpertFormat: Sendable {
    /// `experts.<e>.<gate|up|down>` Linear weights with SiLU gating (names relative to the expert's prefix).
    case perExpert(gate: String, up: String, down: String)
    /// [E, 2I, H] gate rows then up rows, and [E, H, I] down (granitemoe input_linear / output_linear).
    case fusedGateUp(gateUp: String, down: String)
    /// [E, H, 2I] gate columns then up columns, and [E, I, H] down (Llama-4 experts.gate_up_proj / down_proj).
    case fusedGateUpInputMajor(gateUp: String, down: String)
    /// gpt_oss: [E, H, 2I] with gate and up interleaved, [E, I, H] down, biases, clamped SwiGLU.
    case clampedSwiGLU(gateUp: String, gateUpBias: String, down: String, downBias: String, alpha: Float, limit: Float)

    /// Per-expert SiLU-gated MLPs under the family's gate, up and down names.
    static func perExpert(_ names: TensorNames) -> ExpertFormat {
        .perExpert(gate: names[.gate], up: names[.up], down: names[.down])
    }
}
