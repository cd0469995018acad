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

    public var totalParams: Int { rows.reduce(0) { $0 + $1.params } }
    public var activeParams: Int { rows.reduce(0) { $0 + $1.activeParams } }
    public var bytes: Int { rows.reduce(0) { $0 + $1.bytes } }
    public var flopsPerToken: Double { rows.reduce(0) { $0 + $1.flopsPerToken } }

    public init(_ checkpoint: Checkpoint, context: Int, topK: Int? = nil) throws(MoESlimError) {
        let model = try ModelFamilies.describe(checkpoint)
        if let topK, let layer = model.moeLayers.first(where: { topK > $0.numExperts }) {
            throw MoESlimError(.invalidArgument, "--top-k \(topK) is more than the \(layer.numExperts) experts of layer \(layer.layer)", path: checkpoint.path)
        }
        let tensors = checkpoint.names.compactMap { name in checkpoint.info(name).map { (name, $0.dtype, $0.shape) } }
        self.init(model: model, tensors: tensors, path: checkpoint.path, context: context, topK: topK)
    }

    /// From a description and tensor shapes alone, so a plan's result can be reported before it is written.
    public init(model: ModelDescription, tensors: [(name: String, dtype: DType, shape: [Int])], path: String, context: Int, topK: Int? = nil) {
        var params: [Component: Int] = [:]
        var active: [Component: Double] = [:]
        var bytes: [Component: Int] = [:]
        var experts: [Int: Int] = [:]
        var topKs: [Int: Int] = [:]
        var fractions: [Int: Double] = [:]
        for layer in model.moeLayers {
            let k = min(topK ?? layer.topK, layer.numExperts)
            experts[layer.layer] = layer.numExperts
            topKs[layer.layer] = k
            fractions[layer.layer] = Double(k) / Double(layer.numExperts)
        }
        let classes = TensorClassifier.classify(tensors.map(\.name), model)
        let skipped: String? = model.tiedEmbeddings ? model.lmHeadTensor : nil
        for (name, dtype, shape) in tensors where name != skipped && !model.buffers.contains(name) {
            guard let (component, layer) = classes[name] else { continue }
            let n = shape.reduce(1, *)
            params[component, default: 0] += n
            bytes[component, default: 0] += TensorInfo.byteCount(dtype: dtype, shape: shape) ?? 0
            active[component, default: 0] += Double(n) * (layer.flatMap { fractions[$0] } ?? 1)
        }
        var rows: [Row] = []
        for component in Component.allCases {
            let p = params[component] ?? 0
            let a = Int((active[component] ?? 0).rounded())
            let flops: Double
            switch component {
            case .embed: flops = 4 * Double(model.hiddenSize)
            case .deEmbed: flops = 2 * Double(model.hiddenSize) * Double(model.vocabSize)
            case .attentionMask: flops = Self.maskFlops(model, context: context)
            case .norms, .other: flops = 0
            default: flops = 2 * Double(a)
            }
            if p == 0 && flops == 0 { continue }
            rows.append(Row(component: component, params: p, activeParams: a, bytes: bytes[component] ?? 0, flopsPerToken: flops))
        }
        self.path = path
        self.modelType = model.modelType
        self.context = context
        self.rows = rows
        self.expertsPerLayer = experts
        self.topKPerLayer = topKs
    }

    /// Kaplan's 2 · n_layer · n_ctx · d_attn, with n_ctx capped by the window on sliding-window layers.
    static func maskFlops(_ model: ModelDescription, context: Int) -> Double {
        let dAttn = Double(model.attention.numHeads * model.attention.queryKeyHeadDim)
        var total = 0.0
        for layer in 0..<model.numLayers {
            var ctx = context
            if model.attention.slidingLayers.contains(layer), let w = model.attention.slidingWindow { ctx = min(ctx, w) }
            total += 2 * Double(ctx) * dAttn
        }
        return total
    }
}
