import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies

/// Parameters, bytes and forward FLOPs per token for each component, from the real tensor shapes and dtypes
/// in the headers (formats/report.md gives every formula). No tensor data is read.
public struct SizeReport: Sendable {
    public struct Row: Sendable {
        public var component: Component
        public var params: Int
        public var activeParams: Int
        public var bytes: Int
        public var flopsPerToken: Double
    }

    public let path: String
    public let modelType: String
    public let context: Int
    public let rows: [Row]
    public let expertsPerLayer: [Int: Int]
    public let topKPerLayer: [Int: Int]
    /// Bytes of quantization scales (`QuantizationScales`), already counted in their components' bytes.
    public let scaleBytes: Int

    public var totalParams: Int { rows.reduce(0) { $0 + $1.params } }
    public var activeParams: Int { rows.reduce(0) { $0 + $1.activeParams } }
    public var bytes: Int { rows.reduce(0) { $0 + $1.bytes } }
    public var flopsPerToken: Double { rows.reduce(0) { $0 + $1.flopsPerToken } }

    public init(_ checkpoint: Checkpoint, context: Int, topK: Int? = nil) throws(MoESlimError) {
        let outline = try ModelFamilies.outline(checkpoint)
        let model = outline.model
        if let topK, let layer = model.moeLayers.first(where: { topK > $0.numExperts }) {
            throw MoESlimError(.invalidArgument, "--top-k \(topK) is more than the \(layer.numExperts) experts of layer \(layer.layer)", path: checkpoint.path)
        }
        var tally = ComponentTally(model: model, topK: topK)
        var scaleBytes = 0
        TensorClassifier.forEachTensor(of: checkpoint, outline) { table, row, component, layer in
            let bytes = table.entries[row].end - table.entries[row].begin
            tally.add(component, layer: layer, elements: table.elementCount(at: row), bytes: bytes)
            if QuantizationScales.isScale(table.nameBytes(at: row)) { scaleBytes += bytes }
        }
        self.init(model: model, tally: tally, path: checkpoint.path, context: context, topK: topK, scaleBytes: scaleBytes)
    }

    /// From a description and tensor shapes alone, so a plan's result can be reported before it is written.
    public init(model: ModelDescription, tensors: [(name: String, dtype: DType, shape: [Int])], path: String, context: Int, topK: Int? = nil) {
        let classes = TensorClassifier.classify(tensors.map(\.name), model)
        let skipped: String? = model.tiedEmbeddings ? model.lmHeadTensor : nil
        var tally = ComponentTally(model: model, topK: topK)
        var scaleBytes = 0
        for (name, dtype, shape) in tensors where skipped.map({ !name.sameBytes(as: $0) }) ?? true && !model.buffers.contains(ByteName(name)) {
            guard let (component, layer) = classes[ByteName(name)] else { continue }
            let bytes = TensorInfo.byteCount(dtype: dtype, shape: shape) ?? 0
            tally.add(component, layer: layer, elements: shape.reduce(1, *), bytes: bytes)
            if QuantizationScales.isScale(name) { scaleBytes += bytes }
        }
        self.init(model: model, tally: tally, path: path, context: context, topK: topK, scaleBytes: scaleBytes)
    }

    init(model: ModelDescription, tally: ComponentTally, path: String, context: Int, topK: Int?, scaleBytes: Int) {
        var experts: [Int: Int] = [:]
        var topKs: [Int: Int] = [:]
        for layer in model.moeLayers {
            experts[layer.layer] = layer.numExperts
            topKs[layer.layer] = min(topK ?? layer.topK, layer.numExperts)
        }
        var rows: [Row] = []
        for component in Component.allCases {
            let p = tally.params(component)
            let a = Int(tally.active(component).rounded())
            let flops: Double
            switch component {
            case .embed: flops = 4 * Double(model.hiddenSize)
            case .deEmbed: flops = 2 * Double(model.hiddenSize) * Double(model.vocabSize)
            case .attentionMask: flops = Self.maskFlops(model, context: context)
            case .norms, .other: flops = 0
            default: flops = 2 * Double(a)
            }
            if p == 0 && flops == 0 { continue }
            rows.append(Row(component: component, params: p, activeParams: a, bytes: tally.bytes(component), flopsPerToken: flops))
        }
        self.path = path
        self.modelType = model.modelType
        self.context = context
        self.rows = rows
        self.expertsPerLayer = experts
        self.topKPerLayer = topKs
        self.scaleBytes = scaleBytes
    }

    /// Kaplan's 2 · n_layer · n_ctx · d_attn (n_layer counting each attention sublayer: LongCat-Flash attends
    /// twice per decoder layer), with n_ctx capped by the window on sliding-window layers; a
    /// linear-attention layer instead reads its state twice and writes it once: 6 · value heads · d_k · d_v.
    static func maskFlops(_ model: ModelDescription, context: Int) -> Double {
        let dAttn = Double(model.attention.numHeads * model.attention.queryKeyHeadDim)
        var total = 0.0
        for layer in 0..<model.numLayers {
            if let linear = model.attention.linear, linear.layers.contains(layer) {
                total += 6 * Double(linear.valueHeads) * Double(linear.keyHeadDim) * Double(linear.valueHeadDim)
                continue
            }
            var ctx = context
            if model.attention.slidingLayers.contains(layer), let w = model.attention.slidingWindow { ctx = min(ctx, w) }
            total += 2 * Double(ctx) * dAttn * Double(model.attention.perLayer)
        }
        return total
    }
}
