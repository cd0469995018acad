import Foundation

extension WeightReader {
    /// E2M1 code → value, as transformers' FP4_VALUES.
    private static let fp4: [Float] = [0, 0.5, 1, 1.5, 2, 3, 4, 6, -0, -0.5, -1, -1.5, -2, -3, -4, -6]

    /// Dequantizes `<name>_blocks` [E, rows, groups, 16] (two FP4 codes per byte, low nibble first) with
    /// `<name>_scales` [E, rows, groups] (E8M0, 2^(s-127)) into [E, groups·32, rows], the layout transformers'
    /// convert_moe_packed_tensors gives gpt_oss experts, so the result replaces the unquantized tensor exactly.
    func loadMXFP4(_ name: String) throws(MoESlimError) -> (values: [Float], shape: [Int]) {
        let blocksName = name + "_blocks", scalesName = name + "_scales"
        let blockShape = try shape(blocksName)
        guard let blocksInfo = checkpoint.info(blocksName), let scalesInfo = checkpoint.info(scalesName),
              blocksInfo.dtype == .U8, scalesInfo.dtype == .U8, blockShape.count == 4, blockShape[3] == 16,
              scalesInfo.shape == Array(blockShape.prefix(3)),
              let blocks = checkpoint.bytes(of: blocksName), let scales = checkpoint.bytes(of: scalesName)
        else {
            throw MoESlimError(.invalidTensor, "expected U8 MXFP4 blocks [E, rows, groups, 16] with U8 scales [E, rows, groups]", path: checkpoint.path, tensor: blocksName)
        }
        let (experts, rows, groups) = (blockShape[0], blockShape[1], blockShape[2])
        let columns = groups * 32
        var out = [Float](repeating: 0, count: experts * columns * rows)
        out.withUnsafeMutableBufferPointer { o in
            for e in 0..<experts {
                for r in 0..<rows {
                    for g in 0..<groups {
                        let scaleIndex = (e * rows + r) * groups + g
                        let scale = Float(sign: .plus, exponent: Int(scales.load(fromByteOffset: scaleIndex, as: UInt8.self)) - 127, significand: 1)
                        for b in 0..<16 {
                            let byte = blocks.load(fromByteOffset: scaleIndex * 16 + b, as: UInt8.self)
                            let column = g * 32 + 2 * b
                            o[(e * columns + column) * rows + r] = Self.fp4[Int(byte & 0x0F)] * scale
                            o[(e * columns + column + 1) * rows + r] = Self.fp4[Int(byte >> 4)] * scale
                        }
                    }
                }
            }
        }
        return (out, [experts, columns, rows])
    }
}
