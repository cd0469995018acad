import MoESlimSupport
import MoESlimFormats

/// Reads stored tensors for the engine: bf16 Linear weights in place under bf16 compute, everything else
/// widened to f32 once per chunk and then used by many tokens; stored bytes may be unaligned, hence
/// loadUnaligned.
package struct WeightReader {
    let checkpoint: Checkpoint
    var compute: ComputePrecision = .bf16
    /// Set when the model is larger than the page cache can hold (ChunkPlanner.streams): released tensors then
    /// leave the page cache too.
    var evictsPageCache = false

    /// For readers outside the engine (AIMER's scores).
    package init(checkpoint: Checkpoint, compute: ComputePrecision = .bf16) {
        self.checkpoint = checkpoint
        self.compute = compute
    }

    func contains(_ name: String) -> Bool { checkpoint.contains(name) }

    package func shape(_ name: String) throws(MoESlimError) -> [Int] {
        guard let info = checkpoint.info(name) else {
            throw MoESlimError(.invalidTensor, "the forward pass needs this tensor, which is missing", path: checkpoint.path, tensor: name)
        }
        return info.shape
    }

    /// The tensor as f32, checked against the element count the engine expects.
    package func load(_ name: String, count: Int? = nil) throws(MoESlimError) -> [Float] {
        guard let info = checkpoint.info(name), let bytes = checkpoint.bytes(of: name) else {
            throw MoESlimError(.invalidTensor, "the forward pass needs this tensor, which is missing", path: checkpoint.path, tensor: name)
        }
        if let count, info.elementCount != count {
            throw MoESlimError(.invalidTensor, "has \(info.elementCount) elements (shape \(info.shape)), the config implies \(count)", path: checkpoint.path, tensor: name)
        }
        let n = info.elementCount
        if info.dtype == .F8_E4M3 { return try loadFP8(name, info: info, bytes: bytes) }
        guard [.F32, .BF16, .F16].contains(info.dtype) else {
            throw MoESlimError(.unsupportedModel, "calibrate reads f32, bf16, f16, block-scaled FP8 (E4M3) and MXFP4 expert weights, not \(info.dtype.rawValue)", path: checkpoint.path, tensor: name)
        }
        let dtype = info.dtype
        let source = SharedRawPointer(base: bytes.baseAddress!)
        return [Float](unsafeUninitializedCapacity: n) { out, done in
            let target = SharedPointer(base: out.baseAddress!)
            Parallel.ranges(n) { range in Self.widen(source.base, dtype, range, into: target.base + range.lowerBound) }
            done = n
        }
    }

    /// Widens stored elements `range` into `out[0..<range.count]`.
    private static func widen(_ bytes: UnsafeRawPointer, _ dtype: DType, _ range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let first = range.lowerBound
        switch dtype {
        case .BF16:
            for i in range { out[i - first] = Float(bitPattern: UInt32(bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16) }
        case .F16:
            for i in range { out[i - first] = Float(Float16(bitPattern: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
        default:
            for i in range { out[i - first] = bytes.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
        }
    }

    /// One row of a 2-D tensor, widened.
    func row(_ name: String, _ index: Int, width: Int) throws(MoESlimError) -> [Float] {
        try rows(name, index..<(index + 1), width: width)
    }

    /// Consecutive rows of a 2-D tensor, widened.
    func rows(_ name: String, _ range: Range<Int>, width: Int) throws(MoESlimError) -> [Float] {
        guard let info = checkpoint.info(name), let bytes = checkpoint.bytes(of: name) else {
            throw MoESlimError(.invalidTensor, "the forward pass needs this tensor, which is missing", path: checkpoint.path, tensor: name)
        }
        guard [.F32, .BF16, .F16].contains(info.dtype) else {
            throw MoESlimError(.unsupportedModel, "the forward pass reads f32, bf16 and f16 weights here, not \(info.dtype.rawValue)", path: checkpoint.path, tensor: name)
        }
        let n = range.count * width
        let first = range.lowerBound * width
        let dtype = info.dtype
        let source = SharedRawPointer(base: bytes.baseAddress!)
        return [Float](unsafeUninitializedCapacity: n) { out, done in
            let target = SharedPointer(base: out.baseAddress!)
            Parallel.ranges(n) { part in
                Self.widen(source.base, dtype, (first + part.lowerBound)..<(first + part.upperBound), into: target.base + part.lowerBound)
            }
            done = n
        }
    }

    /// Under bf16 compute a 2-D bf16 tensor is multiplied where it lies; anything else is widened first.
    func readsInPlace(_ name: String) -> Bool {
        guard compute == .bf16, let info = checkpoint.info(name) else { return false }
        return info.dtype == .BF16 && info.shape.count == 2
    }

    /// A Linear weight [out, in], in place or widened as `readsInPlace` says.
    func linear(_ name: String, count: Int? = nil) throws(MoESlimError) -> LinearWeight {
        guard readsInPlace(name), let info = checkpoint.info(name), let bytes = checkpoint.bytes(of: name),
              count.map({ $0 == info.elementCount }) ?? true
        else { return .f32(try load(name, count: count)) }
        return .bf16(BF16Matrix(base: bytes.baseAddress!, rows: info.shape[0], columns: info.shape[1]))
    }

    /// A whole [E, …] expert tensor: bf16 in place under bf16 compute, else widened.
    func fused(_ name: String, count: Int? = nil) throws(MoESlimError) -> FusedWeight {
        guard compute == .bf16, let info = checkpoint.info(name), info.dtype == .BF16, let bytes = checkpoint.bytes(of: name),
              count.map({ $0 == info.elementCount }) ?? true
        else { return .f32(try load(name, count: count)) }
        return .bf16(base: bytes.baseAddress!, owner: nil)
    }

    /// Rows `range` of a 2-D weight as a Linear weight, in place or widened as `readsInPlace` says.
    func linearRows(_ name: String, _ range: Range<Int>, width: Int) throws(MoESlimError) -> LinearWeight {
        guard readsInPlace(name), let info = checkpoint.info(name), info.shape[1] == width, range.upperBound <= info.shape[0],
              let bytes = checkpoint.bytes(of: name)
        else { return .f32(try rows(name, range, width: width)) }
        return .bf16(BF16Matrix(base: bytes.baseAddress!, rows: info.shape[0], columns: width).rows(range))
    }

    /// Drops the named tensors' pages from this process's memory once a layer is done with them: they are
    /// read in place or widened per chunk, so keeping them mapped would make peak memory grow with the model.
    /// The page cache keeps them, so a later chunk faults them back in cheaply, unless the model is larger than
    /// the page cache (`evictsPageCache`).
    package func release(_ names: [String]) {
        for name in names {
            guard let location = checkpoint.location(of: name) else { continue }
            let shard = checkpoint.shards[location.shard]
            if evictsPageCache { shard.evict(location.info) } else { shard.release(location.info) }
        }
    }

    /// Reads the next layer's weights ahead while the current one computes.
    func willNeed(_ names: [String]) {
        for name in names {
            if let location = checkpoint.location(of: name) { checkpoint.shards[location.shard].willNeed(location.info) }
        }
    }

    func loadIfPresent(_ name: String, count: Int? = nil) throws(MoESlimError) -> [Float]? {
        contains(name) ? try load(name, count: count) : nil
    }
}
