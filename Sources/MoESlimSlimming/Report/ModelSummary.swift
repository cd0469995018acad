import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies

/// What `inspect` shows: enough to see at a glance what a checkpoint is and what prune would act on.
public struct ModelSummary: Sendable {
    public let path: String
    /// The description without per-expert tensor names (ModelOutline.model): all that inspect shows.
    let model: ModelDescription
    public let shards: Int
    public let tensorCount: Int
    public let bytesPerDType: [(dtype: String, bytes: Int)]
    public let denseLayers: [Int]

    public init(_ checkpoint: Checkpoint) throws(MoESlimError) {
        model = try ModelFamilies.outline(checkpoint).model
        path = checkpoint.path
        shards = checkpoint.shards.count
        tensorCount = checkpoint.tensorCount
        var perType = [Int?](repeating: nil, count: DType.allCases.count)
        checkpoint.forEachTensor { _, table, row in
            let entry = table.entries[row]
            let i = DType.allCases.firstIndex(of: entry.dtype)!
            perType[i] = (perType[i] ?? 0) + entry.end - entry.begin
        }
        bytesPerDType = zip(DType.allCases, perType).compactMap { dtype, bytes in bytes.map { (dtype.rawValue, $0) } }
            .sorted { $0.dtype < $1.dtype }
        let moe = Set(model.moeLayers.map(\.layer))
        denseLayers = (0..<model.numLayers).filter { !moe.contains($0) }
    }

    private func storage(_ layer: MoELayer) -> String {
        switch layer.experts {
        case .separate: return "per-expert"
        case .fused: return "fused"
        }
    }

    /// The text's words for what the JSON names by enum value.
    private var attentionWords: String {
        switch model.attention.kind {
        case .grouped: return "grouped-query attention"
        case .multiLatent: return "multi-head latent attention"
        }
    }

    private var routerWords: String {
        switch model.routing.scoring {
        case .softmax: return "softmax router"
        case .sigmoid: return "sigmoid router"
        case .softmaxAfterTopK: return "router softmax over the top-k"
        }
    }

    private func storageWords(_ layer: MoELayer) -> String {
        switch layer.experts {
        case .separate: return "one tensor set per expert"
        case .fused: return "all experts in fused tensors"
        }
    }

    public var json: JSONValue {
        .object([
            ("path", .string(path)),
            ("model_type", .string(model.modelType)),
            ("layers", .int(model.numLayers)),
            ("hidden_size", .int(model.hiddenSize)),
            ("vocab_size", .int(model.vocabSize)),
            ("attention", .string(model.attention.kind.rawValue)),
            ("tied_embeddings", .bool(model.tiedEmbeddings)),
            ("routing", .string(model.routing.scoring.rawValue)),
            ("shards", .int(shards)),
            ("tensors", .int(tensorCount)),
            ("dense_layers", .array(denseLayers.map { .int($0) })),
            ("moe_layers", .array(model.moeLayers.map { layer in
                .object([
                    ("layer", .int(layer.layer)),
                    ("experts", .int(layer.numExperts)),
                    ("zero_compute_experts", .int(layer.zeroComputeExperts)),
                    ("top_k", .int(layer.topK)),
                    ("storage", .string(storage(layer))),
                    ("router", .array(layer.router.map { .string($0.name) })),
                    ("shared", .array(layer.shared.map { .string($0) })),
                ])
            })),
            ("bytes_per_dtype", .object(bytesPerDType.map { ($0.dtype, .int($0.bytes)) })),
        ])
    }

    public var text: String {
        var lines = [
            "\(path)",
            "  family        \(model.modelType) (\(attentionWords), \(routerWords))",
            "  layers        \(model.numLayers): \(model.moeLayers.count) with experts, \(denseLayers.isEmpty ? "none" : String(denseLayers.count)) with a dense MLP",
            "  hidden/vocab  \(model.hiddenSize) / \(model.vocabSize)" + (model.tiedEmbeddings ? " (tied embeddings)" : ""),
            "  tensors       \(tensorCount) in \(shards) shard\(shards == 1 ? "" : "s")",
        ]
        let counts = Dictionary(grouping: model.moeLayers, by: { layer in
            let zero = layer.zeroComputeExperts == 0 ? "" : " (\(layer.zeroComputeExperts) of them zero-compute)"
            return "\(layer.numExperts) experts\(zero), \(layer.topK) per token, \(storageWords(layer))"
        })
        for (text, layers) in counts.sorted(by: { $0.key < $1.key }) {
            lines.append("  MoE layers    \(layers.count) × \(text)")
        }
        if let shared = model.moeLayers.first?.shared, !shared.isEmpty {
            lines.append("  shared        \(shared.count) tensors per MoE layer (kept whole)")
        }
        if !denseLayers.isEmpty {
            let which = denseLayers.map(String.init).joined(separator: ", ")
            lines.append("  dense MLP     in layer\(denseLayers.count == 1 ? "" : "s") \(which)")
        }
        for (dtype, bytes) in bytesPerDType {
            lines.append("  \(dtype.padding(toLength: 12, withPad: " ", startingAt: 0))  \(ByteSize(bytes)) (\(bytes) bytes)")
        }
        // model_type comes from config.json: each line is escaped as error messages are.
        return lines.map(EscapedText.of).joined(separator: "\n")
    }
}
