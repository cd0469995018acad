import MoESlimSupport
import MoESlimFormats

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
        // As transformers' FineGrainedFP8Config: 128×128 when the key is absent; null is per-tensor quantization,
        // one scale (stored as a scalar, [1] or [1, 1]) for the whole matrix, which is one block of its size.
        let configured = checkpoint.config?["quantization_config"]?["weight_block_size"]
        let perTensor: Bool
        if case .null? = configured { perTensor = true } else { perTensor = false }
        let block: [Int?] = perTensor ? [max(rows, 1), max(cols, 1)] : configured.map { $0.arrayValue?.map(\.intValue) ?? [] } ?? [128, 128]
        // Rounded up without adding: a block size from the config may be as large as Int.max.
        func blocks(_ n: Int, _ size: Int) -> Int { n / size + (n % size == 0 ? 0 : 1) }
        guard block.count == 2, let b0 = block[0], let b1 = block[1], b0 > 0, b1 > 0,
              perTensor ? scaleInfo.shape.allSatisfy({ $0 == 1 }) : scaleInfo.shape == [blocks(rows, b0), blocks(cols, b1)]
        else {
            throw MoESlimError(.invalidTensor, "scale shape \(scaleInfo.shape) does not match weight \(info.shape) in blocks of \(block.map { $0.map(String.init) ?? "?" })", path: checkpoint.path, tensor: scaleName)
        }
        let scales = try load(scaleName)
        let scaleCols = perTensor ? 1 : scaleInfo.shape[1]
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
