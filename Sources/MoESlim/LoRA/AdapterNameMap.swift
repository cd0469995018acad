/// How a family's module names at training time (transformers 5, which fuses experts and renames some modules
/// when it loads a checkpoint) lead back to the tensors on disk. Adapter keys carry training-time names; a merge
/// must write disk names. The reverse of transformers' conversion_mapping.py, restricted to what adapters touch.
public struct AdapterNameMap: Sendable {
    /// Substring renames applied in order to a training-time parameter name to get the disk name.
    public var renames: [(training: String, disk: String)]
    /// Fused expert parameters at training time whose disk form is one tensor per expert.
    public var fusedExperts: [FusedExperts]
    /// transformers stores this family's fused experts as (experts, in, out) (`is_transposed`), not (experts, out, in).
    public var transposedExperts: Bool

    public struct FusedExperts: Sendable {
        /// Parameter name suffix at training time, such as "experts.gate_up_proj".
        public var training: String
        /// Per-expert tensors (relative to `experts.<e>.`) stacked in this order along the output rows.
        public var parts: [String]
    }

    public init(renames: [(training: String, disk: String)] = [], fusedExperts: [FusedExperts] = [], transposedExperts: Bool = false) {
        self.renames = renames
        self.fusedExperts = fusedExperts
        self.transposedExperts = transposedExperts
    }

    public static let identity = AdapterNameMap()

    /// Each family's map, by config.json model_type.
    public static func forModelType(_ modelType: String?) -> AdapterNameMap {
        let families: [(types: [String], map: AdapterNameMap)] = [
            (MixtralFamily.modelTypes, MixtralFamily.adapterNames),
            (PhimoeFamily.modelTypes, PhimoeFamily.adapterNames),
            (Qwen2MoeFamily.modelTypes + Qwen3MoeFamily.modelTypes + OlmoeFamily.modelTypes, .gateUpDownExperts),
            (GptOssFamily.modelTypes, GptOssFamily.adapterNames),
        ]
        return families.first { $0.types.contains(modelType ?? "") }?.map ?? .identity
    }

    func diskName(_ training: String) -> String {
        renames.reduce(training) { $0.replacingOccurrences(of: $1.training, with: $1.disk) }
    }

    /// qwen2_moe, qwen3_moe and olmoe keep `mlp.experts.<e>.gate_proj/up_proj/down_proj` on disk.
    static let gateUpDownExperts = AdapterNameMap(fusedExperts: [
        .init(training: "experts.gate_up_proj", parts: ["gate_proj.weight", "up_proj.weight"]),
        .init(training: "experts.down_proj", parts: ["down_proj.weight"]),
    ])
}

extension MixtralFamily {
    /// transformers 5: `block_sparse_moe` runs as `mlp`, experts w1|w3 as gate_up_proj and w2 as down_proj.
    static let adapterNames = AdapterNameMap(
        renames: [(".mlp.", ".block_sparse_moe.")],
        fusedExperts: [
            .init(training: "experts.gate_up_proj", parts: ["w1.weight", "w3.weight"]),
            .init(training: "experts.down_proj", parts: ["w2.weight"]),
        ])
}

extension PhimoeFamily {
    /// As Mixtral, and the router runs as `mlp.router`.
    static let adapterNames = AdapterNameMap(
        renames: [(".mlp.router.", ".block_sparse_moe.gate."), (".mlp.", ".block_sparse_moe.")],
        fusedExperts: MixtralFamily.adapterNames.fusedExperts)
}

extension GptOssFamily {
    /// Stored fused as at training time (gate and up interleaved in one tensor), laid out (experts, in, out).
    static let adapterNames = AdapterNameMap(transposedExperts: true)
}
