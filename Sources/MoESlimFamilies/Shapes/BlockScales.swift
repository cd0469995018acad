import MoESlimSupport
import MoESlimFormats

/// The shape check for block-scaled FP8 (quantization_config.quant_method "fp8", DeepSeek-V3's layout): each
/// `<weight>_scale_inv` holds one multiplier per block of `weight_block_size` over the last two axes of its weight,
/// partial edge blocks included, and any leading axes (a fused experts tensor's expert axis) as they are. A scale
/// of any other shape would dequantize rows with another block's multiplier, and a pruned checkpoint whose scales
/// no longer fit its weights must not be published, so describe and verify hold every scale to its weight.
package enum BlockScales {
    /// quantization_config.weight_block_size as transformers' FineGrainedFP8Config reads it.
    package enum BlockSize: Equatable {
        /// `null`: one scale for the whole tensor.
        case perTensor
        case blocks(Int, Int)
    }

    /// 128×128 when the key is absent, one scale per tensor when it is null, nil for anything but two positive
    /// integers; the shape check here and the engine's FP8 decoder both read it through this.
    package static func blockSize(_ value: JSONValue?) -> BlockSize? {
        guard let value else { return .blocks(128, 128) }
        if case .null = value { return .perTensor }
        guard let items = value.arrayValue, items.count == 2,
              let rows = items[0].intValue, let cols = items[1].intValue, rows > 0, cols > 0
        else { return nil }
        return .blocks(rows, cols)
    }

    /// Blocks of `size` covering `n`, rounded up without adding (a block size may be as large as Int.max).
    package static func blocks(_ n: Int, _ size: Int) -> Int { n / size + (n % size == 0 ? 0 : 1) }

    static func problems(in checkpoint: Checkpoint) -> [MoESlimError] {
        guard let quantization = checkpoint.config?["quantization_config"],
              quantization["quant_method"]?.stringValue?.sameBytes(as: "fp8") == true
        else { return [] }
        let block: [Int]?
        switch blockSize(quantization["weight_block_size"]) {
        case .blocks(let rows, let cols)?: block = [rows, cols]
        case .perTensor?: block = nil
        case nil:
            let value = quantization["weight_block_size"]?.serialized(indent: nil) ?? "absent"
            return [MoESlimError(.invalidConfig, "quantization_config.weight_block_size is \(value), not two positive block sizes", path: checkpoint.configPath)]
        }
        var problems: [MoESlimError] = []
        let suffix = "_scale_inv"
        for name in checkpoint.names where name.hasByteSuffix(suffix) {
            let weightName = name.dropLastBytes(suffix.utf8.count)
            guard let weight = checkpoint.info(weightName)?.shape, let scale = checkpoint.info(name)?.shape else { continue }
            guard let expected = expectedShape(weight: weight, block: block) else {
                problems.append(MoESlimError(
                    .invalidTensor, "is the scale of '\(weightName)' \(weight), which has fewer than 2 axes to cut into blocks",
                    path: checkpoint.path, tensor: name))
                continue
            }
            // Without blocks the one scale is stored as a scalar or as [1].
            guard block == nil ? !scale.allSatisfy({ $0 == 1 }) : scale != expected else { continue }
            let blocks = block.map { "blocks of \($0)" } ?? "one scale (weight_block_size is null)"
            problems.append(MoESlimError(
                .invalidTensor, "has shape \(scale), but '\(weightName)' \(weight) in \(blocks) needs \(expected)",
                path: checkpoint.path, tensor: name))
        }
        return problems
    }

    /// Leading axes kept, the last two divided into blocks rounding up; a single scale without blocks.
    static func expectedShape(weight: [Int], block: [Int]?) -> [Int]? {
        guard weight.count >= 2 else { return nil }
        guard let block else { return [] }
        let (rows, cols) = (weight[weight.count - 2], weight[weight.count - 1])
        return weight.dropLast(2) + [blocks(rows, block[0]), blocks(cols, block[1])]
    }
}
