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

    /// Step-3.x: one [E, I, H] stack per projection for gate and up, [E, H, I] for down.
    case stacked(gate: String, up: String, down: String)

    /// Qwen3.5: per-expert Linears as transformers 5 saves them, or the [E, 2I, H] / [E, H, I] stacks (gate rows
    /// then up rows) the releases ship; each layer's storage decides (`resolved(for:)`).
    indirect case perExpertOrFused(perExpert: ExpertFormat, fused: ExpertFormat)
    /// Qwen3-VL-MoE: `fusedGateUpInputMajor` as the releases ship it, or `fusedGateUp` as transformers 5 saves it
    /// (its loader transposes either way); the stored shapes decide. No pair of tensors fits both readings: that
    /// would need both 2·I = H (gate_up) and I = H (down).
    case fusedGateUpEitherMajor(gateUp: String, down: String)

    /// Per-expert SiLU-gated MLPs under the family's gate, up and down names.
    static func perExpert(_ names: TensorNames) -> ExpertFormat {
        .perExpert(gate: names[.gate], up: names[.up], down: names[.down])
    }

    /// Per-expert tensors under the family's names, or its fused gate_up / down stacks.
    static func perExpertOrFused(_ names: TensorNames) -> ExpertFormat {
        .perExpertOrFused(perExpert: perExpert(names), fused: .fusedGateUp(gateUp: names[.fusedGateUp], down: names[.fusedDown]))
    }

    /// The format of a layer stored as `storage`, with `shape` giving a stored tensor's shape (relative to the
    /// MoE block) and `hidden` the model's hidden size.
    package func resolved(for storage: MoELayer.ExpertStorage, shape: (String) -> [Int]?, hidden: Int) -> ExpertFormat {
        switch self {
        case .perExpertOrFused(let perExpert, let fused):
            if case .fused = storage { return fused }
            return perExpert
        case .fusedGateUpEitherMajor(let gateUp, let down):
            let g = shape(gateUp), d = shape(down)
            let outputMajor = g?.count == 3 && g?[2] == hidden && d?.count == 3 && d?[1] == hidden
            return outputMajor ? .fusedGateUp(gateUp: gateUp, down: down) : .fusedGateUpInputMajor(gateUp: gateUp, down: down)
        default:
            return self
        }
    }
}
