import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies

/// The forward pass: embeddings, then one decoder layer at a time over a whole chunk of sequences. Calibration
/// stops after the last MoE layer because counts need no lm_head; evaluation runs every layer and the head.
public struct ForwardPass {
    public let model: ModelDescription
    public let spec: EngineSpec
    private var weights: WeightReader
    private let lastMoELayer: Int
    /// Every tensor under `model.layers.L.`, by L, to release after the layer has run.
    private let layerTensors: [[String]]
    /// Whether routing records carry each selected expert's output norms and largest component (the counts'
    /// saliency, ean and max_abs_output). bench/statistics_bench.sh turns it off to time hard counts alone.
    /// Setting it makes or drops the sketch projection, so a pass for logits alone never holds it.
    public var measuresExpertOutputs = true {
        didSet { sketch = measuresExpertOutputs ? OutputSketch.matrix(hidden: model.hiddenSize) : [] }
    }
    /// OutputSketch's projection for this hidden size, made once while outputs are measured: 64 × hidden_size
    /// numbers.
    private var sketch: [Float]

    public init(checkpoint: Checkpoint, compute: ComputePrecision = .bf16, measuresExpertOutputs measures: Bool = true) throws(MoESlimError) {
        let model = try ModelFamilies.describe(checkpoint)
        try self.init(checkpoint: checkpoint, model: model, spec: try EngineFamilies.spec(for: checkpoint, model: model), compute: compute,
                      measuresExpertOutputs: measures)
    }

    public init(checkpoint: Checkpoint, model: ModelDescription, spec: EngineSpec, compute: ComputePrecision = .bf16,
                measuresExpertOutputs measures: Bool = true) throws(MoESlimError) {
        guard let last = model.moeLayers.map(\.layer).max() else {
            throw MoESlimError(.unsupportedModel, "the model has no MoE layers to count", path: checkpoint.path)
        }
        self.model = model
        self.spec = spec
        self.weights = WeightReader(checkpoint: checkpoint, compute: compute)
        self.lastMoELayer = last
        self.layerTensors = Self.tensorsByLayer(checkpoint.names, prefix: model.layersPrefix, layers: model.numLayers)
        self.measuresExpertOutputs = measures
        self.sketch = measures ? OutputSketch.matrix(hidden: model.hiddenSize) : []
    }

    /// This pass streaming a model larger than the page cache (ChunkPlanner.streams): each tensor leaves the
    /// page cache once its layer, or its expert, is done, so the kernel never evicts the layer read ahead instead.
    public func streaming(_ streams: Bool) -> ForwardPass {
        var copy = self
        copy.weights.evictsPageCache = streams
        return copy
    }

    private static func tensorsByLayer(_ names: [String], prefix: String, layers: Int) -> [[String]] {
        var byLayer = [[String]](repeating: [], count: layers)
        for name in names {
            if let layer = name.indexAfter(prefix: prefix), byLayer.indices.contains(layer) {
                byLayer[layer].append(name)
            }
        }
        return byLayer
    }

    /// The decoder layers `run` goes through (up to the last MoE layer), for progress within a chunk.
    public var layersRun: Int { lastMoELayer + 1 }

    /// Runs the sequences and reports each MoE layer's routing as it happens; returns the hidden states after
    /// the last MoE layer ([tokens, hidden], before any final norm). `afterLayer` hears of each finished
    /// decoder layer (its index), so progress can move within a chunk.
    public func run(
        _ sequences: [[Int32]], observe: (RoutingRecord) throws(MoESlimError) -> Void, afterLayer: (Int) -> Void = { _ in }
    ) throws(MoESlimError) -> [Float] {
        try decode(batch(sequences), through: lastMoELayer, masking: nil, observe: observe, afterLayer: afterLayer)
    }

    /// Next-token logits of each sequence ([tokens, vocab] row-major). With a plan, every router only sees the
    /// experts the plan keeps, which computes what the checkpoint `prune` writes for that plan computes.
    /// The head is widened `vocabSlice` rows at a time so a large vocabulary never sits widened whole.
    public func logits(
        _ sequences: [[Int32]], masking plan: PruningPlan? = nil, vocabSlice: Int = 4096, afterLayer: (Int) -> Void = { _ in }
    ) throws(MoESlimError) -> [[Float]] {
        let batch = batch(sequences)
        var h = try decode(batch, through: model.numLayers - 1, masking: plan, observe: { _ throws(MoESlimError) in }, afterLayer: afterLayer)
        try normalize(&h, spec.finalNorm)
        let name = model.lmHeadTensor ?? model.embedTensor
        var head = LMHead(weights: weights, name: name, bias: spec.names[.lmHeadBias], hidden: model.hiddenSize, divisor: spec.logitsDivisor)
        head.softcap = spec.logitSoftcap
        defer { weights.release([name]) }
        let logits = try head(h, batch: batch, vocabSlice: vocabSlice)
        // The routers have seen finite activations; a NaN or infinity after the last of them (a final norm or
        // head weight, a dense layer) would make every metric NaN with exit 0.
        guard logits.allSatisfy({ $0.allSatisfy(\.isFinite) }) else {
            throw MoESlimError(
                .invalidData, "the next-token logits are NaN or infinite; a weight after the last MoE layer (such as the final norm or the head) makes them non-finite",
                path: weights.checkpoint.path)
        }
        return logits
    }

    private func batch(_ sequences: [[Int32]]) -> TokenBatch {
        var batch = TokenBatch()
        for s in sequences { batch.append(s) }
        return batch
    }

    private func decode(
        _ batch: TokenBatch, through lastLayer: Int, masking plan: PruningPlan?, observe: (RoutingRecord) throws(MoESlimError) -> Void,
        afterLayer: (Int) -> Void
    ) throws(MoESlimError) -> [Float] {
        if let limit = spec.attention.denseUpTo, let longest = batch.lengths.max(), longest > limit.tokens {
            throw MoESlimError(
                .unsupportedModel,
                "a sequence of \(longest) tokens is longer than \(limit.key) (\(limit.tokens)): \(limit.reason); split sequences with --seq-len \(limit.tokens) or less",
                path: weights.checkpoint.configPath)
        }
        var h = try embed(batch.tokens)
        weights.release([model.embedTensor])
        weights.willNeed(layerTensors.first ?? [])
        for layer in 0...lastLayer {
            if layer < lastLayer { weights.willNeed(layerTensors[layer + 1]) }
            if let sublayers = spec.shortcutSublayers {
                try shortcutLayer(&h, sublayers: sublayers, layer: layer, batch: batch, masking: plan, observe: observe)
            } else {
                try decoderLayer(&h, layer: layer, batch: batch, masking: plan, observe: observe)
            }
            weights.release(layerTensors[layer])
            afterLayer(layer)
        }
        return h
    }

    /// Attention, then the MoE block or, in a dense layer, the dense MLP, each added to the residual stream.
    private func decoderLayer(
        _ h: inout [Float], layer: Int, batch: TokenBatch, masking plan: PruningPlan?, observe: (RoutingRecord) throws(MoESlimError) -> Void
    ) throws(MoESlimError) {
        let prefix = spec.names.layer(layer)
        let attention = AttentionBlock(spec: spec.attention, names: spec.names, rope: spec.rope, layerRopes: spec.layerRopes, hidden: model.hiddenSize, normEps: spec.normEps)
        var x = h
        try normalize(&x, prefix + spec.inputNorm)
        var attended = try attention(x, layer: layer, batch: batch, weights: weights, prefix: prefix)
        if let norm = spec.attentionOutputNorm { try normalize(&attended, prefix + norm) }
        addResidual(&h, attended)
        x = h
        try normalize(&x, prefix + spec.postAttentionNorm)
        var mlp: [Float]
        if spec.expertsBesideDenseMLP, model.moeLayer(layer) != nil {
            mlp = try expertsBesideDenseMLP(x, residual: h, layer: layer, batch: batch, masking: plan, observe: observe)
        } else if let routed = try routedExperts(x, layer: layer, batch: batch, masking: plan, observe: observe) {
            mlp = routed
        } else {
            mlp = try denseMLP(x, spec.denseMLP, rows: batch.count, prefix: prefix, limit: spec.sharedLimits[layer])
        }
        if let norm = spec.mlpOutputNorm { try normalize(&mlp, prefix + norm) }
        addResidual(&h, mlp)
        if let name = spec.layerScale {
            let scale = try weights.load(prefix + name, count: 1)[0]
            for i in h.indices { h[i] *= scale }
        }
    }

    /// EngineSpec.expertsBesideDenseMLP: the dense MLP on `x` (the residual stream's mlpNorm) and the routed
    /// experts on the residual stream's own input norm, routed from the residual stream itself, each output
    /// normalised, then added.
    private func expertsBesideDenseMLP(
        _ x: [Float], residual: [Float], layer: Int, batch: TokenBatch, masking plan: PruningPlan?,
        observe: (RoutingRecord) throws(MoESlimError) -> Void
    ) throws(MoESlimError) -> [Float] {
        let prefix = spec.names.layer(layer)
        guard let shared = spec.sharedExpert, var moe = model.moeLayer(layer) else {
            throw MoESlimError(.unsupportedModel, "layer \(layer): the dense MLP beside the experts is not described", path: weights.checkpoint.path)
        }
        var dense = try denseMLP(x, shared.mlp, rows: batch.count, prefix: prefix + spec.moePath)
        try normalize(&dense, prefix + spec.names[.denseMLPOutputNorm])
        var expertInput = residual
        try normalize(&expertInput, prefix + spec.names[.expertsInputNorm])
        let kept = plan.map { $0.keptExperts(layer: moe) }
        if let topK = plan?.topK { moe.topK = topK }
        let block = MoEBlock(spec: spec, layer: moe, rule: model.routing, hidden: model.hiddenSize, kept: kept, sketch: measuresExpertOutputs ? sketch : nil)
        var (routed, record) = try block(expertInput, rows: batch.count, weights: weights, prefix: prefix, routerInput: residual, addsShared: false)
        try observe(record)
        try normalize(&routed, prefix + spec.names[.expertsOutputNorm])
        for i in dense.indices { dense[i] += routed[i] }
        return dense
    }

    /// The MoE block's output on `x`, its routing observed; nil when the layer is dense.
    private func routedExperts(
        _ x: [Float], layer: Int, batch: TokenBatch, masking plan: PruningPlan?, observe: (RoutingRecord) throws(MoESlimError) -> Void
    ) throws(MoESlimError) -> [Float]? {
        guard var moe = model.moeLayer(layer) else { return nil }
        let kept = plan.map { $0.keptExperts(layer: moe) }
        if let topK = plan?.topK { moe.topK = topK }
        let block = MoEBlock(spec: spec, layer: moe, rule: model.routing, hidden: model.hiddenSize, kept: kept, sketch: measuresExpertOutputs ? sketch : nil)
        let (output, record) = try block(x, rows: batch.count, weights: weights, prefix: spec.names.layer(layer))
        try observe(record)
        return output
    }

    /// A dense gated MLP; `limit` is Step's clamp of its SwiGLU (EngineSpec.sharedLimits).
    private func denseMLP(_ x: [Float], _ m: GatedMLPNames, rows: Int, prefix: String, limit: Float? = nil) throws(MoESlimError) -> [Float] {
        let p = prefix + m.prefix
        return Kernels.gatedMLP(
            x, rows: rows, gate: try weights.linear(p + m.gate), up: try weights.linear(p + m.up),
            down: try weights.linear(p + m.down), hidden: model.hiddenSize, limit: limit, activation: spec.activation)
    }

    /// LongCat-Flash's decoder layer, as transformers' LongcatFlashDecoderLayer: each sublayer adds its attention
    /// and then its dense MLP to the residual stream; the MoE block reads what the first sublayer's MLP reads, and
    /// its output joins after the last sublayer's MLP.
    private func shortcutLayer(
        _ h: inout [Float], sublayers: [TensorNames], layer: Int, batch: TokenBatch, masking plan: PruningPlan?,
        observe: (RoutingRecord) throws(MoESlimError) -> Void
    ) throws(MoESlimError) {
        let prefix = spec.names.layer(layer)
        var shortcut: [Float]?
        for (i, names) in sublayers.enumerated() {
            let attention = AttentionBlock(spec: spec.attention, names: names, rope: spec.rope, layerRopes: spec.layerRopes, hidden: model.hiddenSize, normEps: spec.normEps)
            var x = h
            try normalize(&x, prefix + names[.attentionNorm])
            addResidual(&h, try attention(x, layer: layer, batch: batch, weights: weights, prefix: prefix))
            x = h
            try normalize(&x, prefix + names[.mlpNorm])
            if i == 0 { shortcut = try routedExperts(x, layer: layer, batch: batch, masking: plan, observe: observe) }
            addResidual(&h, try denseMLP(x, names.gatedMLP(prefix: names[.denseMLP]), rows: batch.count, prefix: prefix))
        }
        if let shortcut { addResidual(&h, shortcut) }
    }

    private func normalize(_ x: inout [Float], _ name: String) throws(MoESlimError) {
        let hidden = model.hiddenSize
        let weight = try weights.load(name + ".weight", count: hidden)
        switch spec.norm {
        case .rms: Kernels.rmsNorm(&x, width: hidden, weight: weight, eps: spec.normEps)
        case .zeroCenteredRMS: Kernels.rmsNorm(&x, width: hidden, weight: weight.map { 1 + $0 }, eps: spec.normEps)
        case .layer: Kernels.layerNorm(&x, width: hidden, weight: weight, bias: try weights.load(name + ".bias", count: hidden), eps: spec.normEps)
        }
    }

    private func addResidual(_ h: inout [Float], _ branch: [Float]) {
        let scale = spec.residualMultiplier
        for i in h.indices { h[i] += branch[i] * scale }
    }

    /// Only the rows of the tokens in the chunk are widened, not the whole vocabulary.
    private func embed(_ tokens: [Int32]) throws(MoESlimError) -> [Float] {
        let name = model.embedTensor
        let shape = try weights.shape(name)
        let hidden = model.hiddenSize
        guard shape.count == 2, shape[1] == hidden else {
            throw MoESlimError(.invalidTensor, "expected [vocab, \(hidden)], found \(shape)", path: weights.checkpoint.path, tensor: name)
        }
        var out = [Float](repeating: 0, count: tokens.count * hidden)
        for (i, token) in tokens.enumerated() {
            guard token >= 0, Int(token) < shape[0] else {
                throw MoESlimError(.invalidData, "token id \(token) is outside the vocabulary (\(shape[0]) entries)")
            }
            let row = try weights.row(name, Int(token), width: hidden)
            for c in 0..<hidden { out[i * hidden + c] = row[c] * spec.embeddingMultiplier }
        }
        return out
    }
}
