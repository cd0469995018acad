import Foundation
import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies
import MoESlimEngine

/// AIMER (arXiv 2603.18492; ZongfangLiu/AIMER, `_aimer_scores_and_rank`): each expert's score is the
/// mean absolute value of all its gate, up and down projection weights divided by their root mean square,
/// (Σ|w| / n) / √(Σw² / n), 0 for an expert whose weights are all zero. The authors' code prunes the experts with
/// the highest scores, so `--criterion aimer` keeps the lowest. Weights only, no calibration: the expert weights
/// are read from the mapped files one expert at a time (ExpertWeights: a safetensors checkpoint or a GGUF), never
/// a layer or the model at once.
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

    /// Each MoE layer's expert scores, from whichever file holds the weights (ExpertWeights). Every layer's
    /// pieces are found first, so a tensor that cannot be read is refused before anything is summed.
    static func table(_ weights: some ExpertWeights, model: ModelDescription) throws(MoESlimError) -> [Int: [Double]] {
        let layers = try model.moeLayers.map { (layer) throws(MoESlimError) in (layer, try weights.expertPieces(layer)) }
        var table: [Int: [Double]] = [:]
        for (layer, perExpert) in layers {
            var scores: [Double] = []
            for (expert, pieces) in perExpert.enumerated() {
                guard !pieces.isEmpty else {
                    throw MoESlimError(.invalidTensor, "layer \(layer.layer) expert \(expert) has no weight matrix to score", path: weights.weightsPath)
                }
                var each: [Sums] = []
                for piece in pieces { each.append(try self.sums(piece)) }
                let sums = combined(each)
                guard sums.count > 0 else {
                    throw MoESlimError(.invalidTensor, "layer \(layer.layer) expert \(expert): its weight matrices hold no values to score (a dimension is 0)", path: weights.weightsPath)
                }
                guard sums.score.isFinite, sums.squares.isFinite else {
                    throw MoESlimError(.invalidData, "layer \(layer.layer) expert \(expert): the weights are NaN, infinite or too large to score (verify --scan finds them)", path: weights.weightsPath)
                }
                scores.append(sums.score)
                weights.release(layer, expert: expert)
            }
            table[layer.layer] = scores
        }
        return table
    }

    /// The pieces' sums added smallest first: formats list an expert's projections in different orders
    /// (Mixtral's w1, w2, w3 against GGUF's gate, up, down), and a fixed order makes the same values give the
    /// same score to the last bit.
    private static func combined(_ each: [Sums]) -> Sums {
        each.sorted { ($0.absolute, $0.squares, $0.count) < ($1.absolute, $1.squares, $1.count) }.reduce(into: Sums()) { $0.add($1) }
    }

    private static func sums(_ piece: ExpertWeightPiece) throws(MoESlimError) -> Sums {
        switch piece {
        case .plain(let dtype, let bytes):
            return plainSums(bytes, dtype: dtype)
        case .ggmlBlocks(let type, let bytes):
            return GGMLBlockSums.sums(bytes, type: type)
        case .decoded(let decode):
            var sums = Sums()
            let values = try decode()
            for v in values {
                let d = Double(v)
                sums.absolute += abs(d)
                sums.squares += d * d
            }
            sums.count = values.count
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
        // An empty tensor's bytes may have no address at all.
        guard n > 0, let base = bytes.baseAddress else { return Sums() }
        let blocks = (n + block - 1) / block
        var partial = [Sums](repeating: Sums(), count: blocks)
        partial.withUnsafeMutableBufferPointer { out in
            let target = SharedPointer(base: out.baseAddress!), source = SharedRawPointer(base: base)
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
