import Foundation
import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies
import MoESlimEngine

/// AIMER (arXiv 2603.18492; ZongfangLiu/AIMER, `_aimer_scores_and_rank`): each expert's score is the
/// mean absolute value of all its gate, up and down projection weights divided by their root mean square,
/// (Σ|w| / n) / √(Σw² / n), 0 for an expert whose weights are all zero. The authors' code prunes the experts with
/// the highest scores, so `--criterion aimer` keeps the lowest. Weights only, no calibration: the expert tensors
/// the family describes are read from the mapped files, one expert at a time, bf16/f16/f32 in place, block-scaled
/// FP8 one matrix at a time and MXFP4 one expert slice at a time, never a layer or the model at once. Biases and
/// quantization scales are not weights and are left out, as the authors' code reads only the projection weights.
enum AimerScores {
    /// Σ|w|, Σw² and n of some weights.
    struct Sums {
        var absolute = 0.0, squares = 0.0, count = 0

        mutating func add(_ other: Sums) {
            absolute += other.absolute
            squares += other.squares
            count += other.count
        }

        var score: Double {
            guard count > 0, squares > 0 else { return 0 }
            return (absolute / Double(count)) / (squares / Double(count)).squareRoot()
        }
    }

    /// One expert's piece of one stored tensor.
    private enum Piece {
        /// bf16, f16 or f32 elements, contiguous.
        case plain(name: String, dtype: DType, bytes: UnsafeRawBufferPointer)
        /// A 2-D block-scaled FP8 weight with its `_scale_inv`.
        case fp8(name: String)
        /// One expert's slice of MXFP4 `_blocks` [rows, groups, 16] with its `_scales` [rows, groups].
        case mxfp4(blocks: UnsafeRawBufferPointer, scales: UnsafeRawBufferPointer)
    }

    /// Each MoE layer's expert scores.
    static func table(_ checkpoint: Checkpoint, model: ModelDescription) throws(MoESlimError) -> [Int: [Double]] {
        let reader = WeightReader(checkpoint: checkpoint, compute: .f32)
        var table: [Int: [Double]] = [:]
        for layer in model.moeLayers {
            var scores: [Double] = []
            for (expert, pieces) in try self.pieces(layer, checkpoint: checkpoint).enumerated() {
                guard !pieces.isEmpty else {
                    throw MoESlimError(.invalidTensor, "layer \(layer.layer) expert \(expert) has no weight matrix to score", path: checkpoint.path)
                }
                var sums = Sums()
                for piece in pieces { sums.add(try self.sums(piece, reader: reader)) }
                guard sums.score.isFinite, sums.squares.isFinite else {
                    throw MoESlimError(.invalidData, "layer \(layer.layer) expert \(expert): the weights are NaN, infinite or too large to score (verify --scan finds them)", path: checkpoint.path)
                }
                scores.append(sums.score)
            }
            table[layer.layer] = scores
            // The layer's pages leave this process (the page cache keeps them), so peak memory is one layer's.
            reader.release(layer.expertTensorNames + layer.expertTensorNames.map { $0 + "_scale_inv" })
        }
        return table
    }

    /// Every expert's weight pieces, checked before anything is summed.
    private static func pieces(_ layer: MoELayer, checkpoint: Checkpoint) throws(MoESlimError) -> [[Piece]] {
        func stored(_ name: String) throws(MoESlimError) -> (TensorInfo, UnsafeRawBufferPointer) {
            guard let info = checkpoint.info(name), let bytes = checkpoint.bytes(of: name) else {
                throw MoESlimError(.invalidTensor, "the model description lists this expert tensor, which is missing", path: checkpoint.path, tensor: name)
            }
            return (info, bytes)
        }
        func unsupported(_ name: String, _ info: TensorInfo) -> MoESlimError {
            MoESlimError(.unsupportedModel, "AIMER reads f32, bf16, f16, block-scaled FP8 (E4M3) and MXFP4 expert weights, not \(info.dtype.rawValue) of shape \(info.shape)", path: checkpoint.path, tensor: name)
        }
        let floats: Set<DType> = [.F32, .BF16, .F16]
        switch layer.experts {
        case .separate(_, let perExpert):
            guard perExpert.count == layer.numExperts else {
                throw MoESlimError(.invalidTensor, "layer \(layer.layer) lists \(perExpert.count) experts, the config says \(layer.numExperts)", path: checkpoint.path)
            }
            return try perExpert.map { (names) throws(MoESlimError) in
                let listed = Set(names.map { ByteName($0) })
                var pieces: [Piece] = []
                for name in names {
                    let (info, bytes) = try stored(name)
                    let isScale = name.hasByteSuffix("_scale_inv") && listed.contains(ByteName(name.dropLastBytes(10)))
                    guard info.shape.count == 2, !isScale else { continue }
                    if info.dtype == .F8_E4M3 {
                        pieces.append(.fp8(name: name))
                    } else if floats.contains(info.dtype) {
                        pieces.append(.plain(name: name, dtype: info.dtype, bytes: bytes))
                    } else {
                        throw unsupported(name, info)
                    }
                }
                return pieces
            }
        case .fused(let tensors):
            var perExpert = [[Piece]](repeating: [], count: layer.numExperts)
            let listed = Set(tensors.map { ByteName($0.name) })
            for tensor in tensors {
                let (info, bytes) = try stored(tensor.name)
                let isScales = tensor.name.hasByteSuffix("_scales") && listed.contains(ByteName(tensor.name.dropLastBytes(7) + "_blocks"))
                guard info.shape.count >= 3, !isScales else { continue }
                guard tensor.axis == 0, info.shape[0] == layer.numExperts else {
                    throw MoESlimError(.invalidTensor, "AIMER reads fused expert tensors with one slice per expert on the first axis (\(layer.numExperts) experts), found shape \(info.shape) sliced on axis \(tensor.axis)", path: checkpoint.path, tensor: tensor.name)
                }
                if info.dtype == .U8, tensor.name.hasByteSuffix("_blocks") {
                    let scalesName = tensor.name.dropLastBytes(7) + "_scales"
                    let (scalesInfo, scales) = try stored(scalesName)
                    guard info.shape.count == 4, info.shape[3] == 16, scalesInfo.dtype == .U8, scalesInfo.shape == Array(info.shape.prefix(3)) else {
                        throw MoESlimError(.invalidTensor, "expected U8 MXFP4 blocks [E, rows, groups, 16] with U8 scales [E, rows, groups]", path: checkpoint.path, tensor: tensor.name)
                    }
                    let blockBytes = bytes.count / layer.numExperts, scaleBytes = scales.count / layer.numExperts
                    for e in 0..<layer.numExperts {
                        perExpert[e].append(.mxfp4(blocks: UnsafeRawBufferPointer(rebasing: bytes[(e * blockBytes)..<((e + 1) * blockBytes)]),
                                                   scales: UnsafeRawBufferPointer(rebasing: scales[(e * scaleBytes)..<((e + 1) * scaleBytes)])))
                    }
                } else if floats.contains(info.dtype) {
                    let sliceBytes = bytes.count / layer.numExperts
                    for e in 0..<layer.numExperts {
                        perExpert[e].append(.plain(name: tensor.name, dtype: info.dtype, bytes: UnsafeRawBufferPointer(rebasing: bytes[(e * sliceBytes)..<((e + 1) * sliceBytes)])))
                    }
                } else {
                    throw unsupported(tensor.name, info)
                }
            }
            return perExpert
        }
    }

    private static func sums(_ piece: Piece, reader: WeightReader) throws(MoESlimError) -> Sums {
        switch piece {
        case .plain(_, let dtype, let bytes):
            return plainSums(bytes, dtype: dtype)
        case .fp8(let name):
            var sums = Sums()
            for v in try reader.load(name) {
                let d = Double(v)
                sums.absolute += abs(d)
                sums.squares += d * d
            }
            sums.count = try reader.shape(name).reduce(1, *)
            return sums
        case .mxfp4(let blocks, let scales):
            return mxfp4Sums(blocks: blocks, scales: scales)
        }
    }

    /// Summed in fixed blocks of 2¹⁶ elements spread over the cores and added in block order, so the score does
    /// not depend on the thread count.
    private static func plainSums(_ bytes: UnsafeRawBufferPointer, dtype: DType) -> Sums {
        let width = dtype == .F32 ? 4 : 2
        let n = bytes.count / width, block = 1 << 16
        let blocks = (n + block - 1) / block
        var partial = [Sums](repeating: Sums(), count: blocks)
        partial.withUnsafeMutableBufferPointer { out in
            let target = SharedPointer(base: out.baseAddress!), source = SharedRawPointer(base: bytes.baseAddress!)
            Parallel.ranges(blocks, minimum: 1) { range in
                for b in range {
                    var absolute = 0.0, squares = 0.0
                    for i in (b * block)..<min(n, (b + 1) * block) {
                        let v: Float
                        switch dtype {
                        case .BF16: v = Float(bitPattern: UInt32(source.base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
                        case .F16: v = Float(Float16(bitPattern: source.base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                        default: v = source.base.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)
                        }
                        let d = Double(v)
                        absolute += abs(d)
                        squares += d * d
                    }
                    target.base[b] = Sums(absolute: absolute, squares: squares, count: min(n, (b + 1) * block) - b * block)
                }
            }
        }
        return partial.reduce(into: Sums()) { $0.add($1) }
    }

    /// E2M1 code → value, as transformers' FP4_VALUES; each byte holds two codes, each group of 32 one E8M0 scale.
    private static let fp4: [Double] = [0, 0.5, 1, 1.5, 2, 3, 4, 6, -0, -0.5, -1, -1.5, -2, -3, -4, -6]

    private static func mxfp4Sums(blocks: UnsafeRawBufferPointer, scales: UnsafeRawBufferPointer) -> Sums {
        var sums = Sums()
        for g in 0..<scales.count {
            let scale = Double(sign: .plus, exponent: Int(scales[g]) - 127, significand: 1)
            for b in 0..<16 {
                let byte = blocks[g * 16 + b]
                for code in [Int(byte & 0x0F), Int(byte >> 4)] {
                    let v = fp4[code] * scale
                    sums.absolute += abs(v)
                    sums.squares += v * v
                }
            }
        }
        sums.count = scales.count * 32
        return sums
    }
}
