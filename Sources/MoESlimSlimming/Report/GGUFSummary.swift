import Foundation
import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies

/// What `inspect` shows for a GGUF: the file's own facts (version, parts, alignment, metadata, bytes per ggml
/// type) and the model as moe-slim reads it (architecture, layers, experts, top-k).
public struct GGUFSummary: Sendable {
    public let path: String
    let model: ModelDescription
    public let architecture: String
    public let version: UInt32
    public let parts: Int
    public let alignment: Int
    public let metadataCount: Int
    public let tensorCount: Int
    public let bytesPerType: [(type: String, bytes: Int)]

    public init(_ gguf: GGUFModel) throws(MoESlimError) {
        model = try GGUFArchitectures.describe(gguf)
        path = gguf.path
        architecture = gguf.architecture ?? ""
        version = gguf.parts[0].header.version
        parts = gguf.parts.count
        alignment = gguf.parts[0].header.alignment
        metadataCount = gguf.metadata.count
        tensorCount = gguf.tensors.count
        var perType: [String: Int] = [:]
        for (_, info) in gguf.tensors { perType[info.type.name, default: 0] += info.byteCount }
        bytesPerType = perType.map { ($0.key, $0.value) }.sorted { $0.type < $1.type }
    }

    public var json: JSONValue {
        .object([
            ("path", .string(path)),
            ("format", .string("gguf")),
            ("gguf_version", .int(Int(version))),
            ("parts", .int(parts)),
            ("alignment", .int(alignment)),
            ("metadata_entries", .int(metadataCount)),
            ("architecture", .string(architecture)),
            ("model_type", .string(model.modelType)),
            ("layers", .int(model.numLayers)),
            ("hidden_size", .int(model.hiddenSize)),
            ("vocab_size", .int(model.vocabSize)),
            ("tied_embeddings", .bool(model.tiedEmbeddings)),
            ("routing", .string(model.routing.scoring.rawValue)),
            ("tensors", .int(tensorCount)),
            ("moe_layers", .array(model.moeLayers.map { layer in
                .object([
                    ("layer", .int(layer.layer)),
                    ("experts", .int(layer.numExperts)),
                    ("top_k", .int(layer.topK)),
                    ("router", .array(layer.router.map { .string($0.name) })),
                    ("experts_tensors", .array(layer.expertTensorNames.map { .string($0) })),
                    ("shared", .array(layer.shared.map { .string($0) })),
                ])
            })),
            ("bytes_per_type", .object(bytesPerType.map { ($0.type, .int($0.bytes)) })),
        ])
    }

    public var text: String {
        let moe = Set(model.moeLayers.map(\.layer))
        let dense = (0..<model.numLayers).filter { !moe.contains($0) }
        var lines = [
            "\(path)",
            "  format        GGUF v\(version), \(parts) part\(parts == 1 ? "" : "s"), alignment \(alignment), \(metadataCount) metadata entries",
            "  family        \(model.modelType) (llama.cpp arch '\(architecture)', \(model.routing.scoring.rawValue) router)",
            "  layers        \(model.numLayers) (\(model.moeLayers.count) MoE, \(dense.count) dense)",
            "  hidden/vocab  \(model.hiddenSize) / \(model.vocabSize)" + (model.tiedEmbeddings ? " (tied embeddings)" : ""),
            "  tensors       \(tensorCount)",
        ]
        let counts = Dictionary(grouping: model.moeLayers, by: { "\($0.numExperts) experts, top-\($0.topK), stacked" })
        for (text, layers) in counts.sorted(by: { $0.key < $1.key }) {
            lines.append("  MoE layers    \(layers.count) × \(text)")
        }
        if let shared = model.moeLayers.first?.shared, !shared.isEmpty {
            lines.append("  shared        \(shared.count) tensors per MoE layer (kept whole)")
        }
        for (type, bytes) in bytesPerType { lines.append("  \(type.padding(toLength: 12, withPad: " ", startingAt: 0))  \(bytes) bytes") }
        return lines.map(EscapedText.of).joined(separator: "\n")
    }
}
