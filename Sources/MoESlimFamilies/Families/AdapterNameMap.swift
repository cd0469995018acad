/// How a family's module names at training time (transformers 5, which fuses experts and renames some modules
/// when it loads a checkpoint) lead back to the tensors on disk. Adapter keys carry training-time names; a merge
/// must write disk names. The reverse of transformers' conversion_mapping.py, restricted to what adapters touch;
/// each family states its own in its file under Families/.
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

    /// Names that are the same at training time and on disk.
    public static let identity = AdapterNameMap()

    package func diskName(_ training: String) -> String {
        renames.reduce(training) { $0.replacingBytes($1.training, with: $1.disk) }
    }
}
