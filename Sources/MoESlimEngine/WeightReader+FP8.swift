import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies

extension WeightReader {
    /// E4M3 (fn: no infinities, 0x7F / 0xFF are NaN) byte → value.
    static let e4m3: [Float] = (0..<256).map { byte in
        let sign: Float = byte & 0x80 != 0 ? -1 : 1
        let exponent = (byte >> 3) & 0x0F, mantissa = byte & 0x07
        if exponent == 0x0F && mantissa == 0x07 { return .nan }
        if exponent == 0 { return sign * Float(mantissa) / 8 * Float(sign: .plus, exponent: -6, significand: 1) }
        return sign * (1 + Float(mantissa) / 8) * Float(sign: .plus, exponent: exponent - 7, significand: 1)
    }

    /// Block-quantized FP8 as DeepSeek-V3 publishes it: a 2-D E4M3 weight and `<name>_scale_inv` holding one f32
    /// multiplier per block of quantization_config.weight_block_size (default 128×128), partial edge blocks
    /// included; dequantized as transformers' finegrained_fp8 does, value × scale.
    func loadFP8(_ name: String, info: TensorInfo, bytes: UnsafeRawBufferPointer) throws(MoESlimError) -> [Float] {
        let scaleName = name + "_scale_inv"
        guard info.shape.count == 2, let scaleInfo = checkpoint.info(scaleName), scaleInfo.dtype == .F32 else {
            throw MoESlimError(.unsupportedModel, "FP8 weights need a 2-D tensor with an f32 '\(scaleName)' beside it", path: checkpoint.path, tensor: name)
        }
        let (rows, cols) = (info.shape[0], info.shape[1])
        // A per-tensor scale (stored as a scalar, [1] or [1, 1]) is one block of the matrix's size.
        let configured = checkpoint.config?["quantization_config"]?["weight_block_size"]
        let size = BlockScales.blockSize(configured)
        let (b0, b1): (Int, Int)
        switch size {
        case .perTensor?: (b0, b1) = (max(rows, 1), max(cols, 1))
        case .blocks(let r, let c)?: (b0, b1) = (r, c)
        case nil: (b0, b1) = (0, 0)
        }
        guard b0 > 0, size == .perTensor ? scaleInfo.shape.allSatisfy({ $0 == 1 })
            : scaleInfo.shape == [BlockScales.blocks(rows, b0), BlockScales.blocks(cols, b1)]
        else {
            let blocks = configured?.serialized(indent: nil) ?? "[128,128]"
            throw MoESlimError(.invalidTensor, "scale shape \(scaleInfo.shape) does not match weight \(info.shape) in blocks of \(blocks)", path: checkpoint.path, tensor: scaleName)
        }
        let scales = try load(scaleName)
        let scaleCols = size == .perTensor ? 1 : scaleInfo.shape[1]
        return [Float](unsafeUninitializedCapacity: rows * cols) { out, done in
            for r in 0..<rows {
                let scaleRow = (r / b0) * scaleCols
                for c in 0..<cols {
                    out[r * cols + c] = Self.e4m3[Int(bytes.load(fromByteOffset: r * cols + c, as: UInt8.self))] * scales[scaleRow + c / b1]
                }
            }
            done = rows * cols
        }
    }
}
