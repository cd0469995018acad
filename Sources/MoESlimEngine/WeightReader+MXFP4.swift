import Foundation
import MoESlimSupport

extension WeightReader {
    /// E2M1 code → value, as transformers' FP4_VALUES.
    private static let fp4: [Float] = [0, 0.5, 1, 1.5, 2, 3, 4, 6, -0, -0.5, -1, -1.5, -2, -3, -4, -6]

    /// Dequantizes `<name>_blocks` [E, rows, groups, 16] (two FP4 codes per byte, low nibble first) with
    /// `<name>_scales` [E, rows, groups] (E8M0, 2^(s-127)) into [E, groups·32, rows], the layout transformers'
    /// convert_moe_packed_tensors gives gpt_oss experts, so the result replaces the unquantized tensor exactly.
    func loadMXFP4(_ name: String) throws(MoESlimError) -> (values: [Float], shape: [Int]) {
        let (experts, rows, groups) = try mxfp4Shape(name)
        let count = experts * groups * 32 * rows
        var values = [Float](repeating: 0, count: count)
        try values.withUnsafeMutableBufferPointer { out throws(MoESlimError) in try dequantizeMXFP4(name, into: out) { $0 } }
        return (values, [experts, groups * 32, rows])
    }

    /// The same values as bf16, which holds every FP4 code times a power of two exactly: half the memory of
    /// f32, and the form bf16 compute multiplies (transformers also dequantizes gpt-oss to bf16 on a CPU).
    func loadMXFP4BF16(_ name: String) throws(MoESlimError) -> (storage: BF16Storage, shape: [Int]) {
        let (experts, rows, groups) = try mxfp4Shape(name)
        let storage = BF16Storage(count: experts * groups * 32 * rows)
        try dequantizeMXFP4(name, into: storage.values) { UInt16($0.bitPattern >> 16) }
        return (storage, [experts, groups * 32, rows])
    }

    private func mxfp4Shape(_ name: String) throws(MoESlimError) -> (experts: Int, rows: Int, groups: Int) {
        let blocksName = name + "_blocks", scalesName = name + "_scales"
        let blockShape = try shape(blocksName)
        guard let blocksInfo = checkpoint.info(blocksName), let scalesInfo = checkpoint.info(scalesName),
              blocksInfo.dtype == .U8, scalesInfo.dtype == .U8, blockShape.count == 4, blockShape[3] == 16,
              scalesInfo.shape == Array(blockShape.prefix(3))
        else {
            throw MoESlimError(.invalidTensor, "expected U8 MXFP4 blocks [E, rows, groups, 16] with U8 scales [E, rows, groups]", path: checkpoint.path, tensor: blocksName)
        }
        return (blockShape[0], blockShape[1], blockShape[2])
    }

    private func dequantizeMXFP4<T>(_ name: String, into o: UnsafeMutableBufferPointer<T>, _ convert: (Float) -> T) throws(MoESlimError) {
        let (experts, rows, groups) = try mxfp4Shape(name)
        guard let blocks = checkpoint.bytes(of: name + "_blocks"), let scales = checkpoint.bytes(of: name + "_scales") else {
            throw MoESlimError(.invalidTensor, "the forward pass needs this tensor, which is missing", path: checkpoint.path, tensor: name + "_blocks")
        }
        let columns = groups * 32
        for e in 0..<experts {
            for r in 0..<rows {
                for g in 0..<groups {
                    let scaleIndex = (e * rows + r) * groups + g
                    let scale = Float(sign: .plus, exponent: Int(scales.load(fromByteOffset: scaleIndex, as: UInt8.self)) - 127, significand: 1)
                    for b in 0..<16 {
                        let byte = blocks.load(fromByteOffset: scaleIndex * 16 + b, as: UInt8.self)
                        let column = g * 32 + 2 * b
                        o[(e * columns + column) * rows + r] = convert(Self.fp4[Int(byte & 0x0F)] * scale)
                        o[(e * columns + column + 1) * rows + r] = convert(Self.fp4[Int(byte >> 4)] * scale)
                    }
                }
            }
        }
    }
}
