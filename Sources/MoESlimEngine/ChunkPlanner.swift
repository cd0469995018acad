import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies

/// Picks how many tokens go through a layer at once so the weights of one layer, as the engine holds them,
/// plus the chunk's activations stay inside the `--memory` budget. Bigger chunks mean fewer weight widenings
/// and larger matrix products.
///
/// A model larger than the page cache can hold beside the budget is streamed: every chunk reads each layer
/// from disk again while the layer before it computes, so the read is paid once per chunk and layer and the
/// run stays compute-bound only when a chunk has enough tokens for a layer's compute to outlast its read
/// (on a 2-core AVX2 machine reading 0.5 GB/s, about 1 500 tokens for a Mixtral-8x7B layer). All of the budget
/// beyond the weights therefore goes to the chunk, and the weights count the layer computing and the whole of
/// the layer read ahead.
public struct ChunkPlanner: Sendable {
    public let widenedLayerBytes: Int
    public let bytesPerToken: Int
    public let chunkTokens: Int
    /// The model does not fit in the page cache beside the budget (PageCacheRoom): layers are read ahead and
    /// evicted once done (ForwardPass.streaming).
    public let streams: Bool
    private let modelBytes: Int
    /// lm_head rows widened at a time: a slice no larger than a widened layer fits the same budget.
    public let vocabSlice: Int

    /// `logitCopies`: how many chunks of [tokens, vocab] logits the caller holds at once (0 for calibration,
    /// 2 when evaluation compares a model with a base). `cacheRoom`: bytes the page cache can hold.
    public init(
        checkpoint: Checkpoint, model: ModelDescription, budget: Int, logitCopies: Int = 0, compute: ComputePrecision = .bf16,
        cacheRoom: Int = PageCacheRoom.bytes()
    ) throws(MoESlimError) {
        widenedLayerBytes = Self.widenedLayerBytes(checkpoint: checkpoint, model: model, reader: WeightReader(checkpoint: checkpoint, compute: compute))
        vocabSlice = max(1, widenedLayerBytes / (4 * max(model.hiddenSize, 1)))
        let experts = model.maxExperts
        let topK = model.moeLayers.map(\.topK).max() ?? 1
        // Activations, the routing record's per-expert and per-slot lists (with each slot's OutputSketch) and logits.
        bytesPerToken = 4 * (24 * model.hiddenSize + 6 * experts + (8 + OutputSketch.width) * topK + logitCopies * model.vocabSize)
        streams = checkpoint.totalBytes > cacheRoom - min(budget, cacheRoom)
        let weights = widenedLayerBytes + (streams ? Self.storedLayerBytes(checkpoint, prefix: model.layersPrefix) : 0)
        let available = budget - weights
        guard available >= 64 * bytesPerToken else {
            let held = streams ? "one layer as the engine holds it and the next read ahead (the model is larger than the page cache)" : "one layer as the engine holds it"
            throw MoESlimError(.invalidArgument, "--memory \(budget) bytes is too small: \(held) take \(weights) bytes; give at least \(weights + 64 * bytesPerToken)")
        }
        chunkTokens = available / bytesPerToken
        modelBytes = checkpoint.totalBytes
    }

    /// Says on stderr that the run streams the model from disk, and how often it reads each layer.
    public var streamingNote: String? {
        guard streams else { return nil }
        return "moe-slim: note: the model (\(ByteSize(modelBytes))) is larger than the page cache can hold beside --memory; "
            + "each layer is read from disk once per chunk of \(chunkTokens) tokens while the layer before it runs"
    }

    /// Bytes of the largest layer as stored: what reading a layer ahead brings into the page cache.
    static func storedLayerBytes(_ checkpoint: Checkpoint, prefix: String) -> Int {
        var perLayer: [Int: Int] = [:]
        for name in checkpoint.names {
            guard let layer = name.indexAfter(prefix: prefix), let info = checkpoint.info(name) else { continue }
            perLayer[layer, default: 0] += info.byteCount
        }
        return perLayer.values.max() ?? 0
    }

    /// Bytes of the largest layer as the engine holds it: everything but per-expert tensors at once, and of
    /// those only one expert at a time (DeepSeek-V3 has 256 per layer). Widened tensors count 4 bytes an
    /// element; under bf16 compute, bf16 tensors count their mapped pages and MXFP4 experts 2 bytes a value.
    static func widenedLayerBytes(checkpoint: Checkpoint, model: ModelDescription, reader: WeightReader) -> Int {
        func widened(_ name: String) -> Int {
            guard let info = checkpoint.info(name) else { return 0 }
            let values = info.elementCount * (name.hasByteSuffix("_blocks") ? 2 : 1)  // MXFP4 packs two values per byte
            guard reader.compute == .bf16 else { return 4 * values }
            if info.dtype == .BF16 { return info.byteCount }
            return name.hasByteSuffix("_blocks") ? 2 * values : 4 * values
        }
        var perLayer: [Int: Int] = [:]
        var oneAtATime = Set<ByteName>()
        var largestExpert: [Int: Int] = [:]
        for layer in model.moeLayers {
            if case .separate(_, let perExpert) = layer.experts {
                oneAtATime.formUnion(perExpert.joined().map { ByteName($0) })
                largestExpert[layer.layer] = perExpert.map { $0.reduce(0) { $0 + widened($1) } }.max() ?? 0
            }
        }
        for name in checkpoint.names where !oneAtATime.contains(ByteName(name)) {
            guard let layer = name.indexAfter(prefix: model.layersPrefix) else { continue }
            perLayer[layer, default: 0] += widened(name)
        }
        return perLayer.map { $0.value + (largestExpert[$0.key] ?? 0) }.max() ?? 0
    }
}
