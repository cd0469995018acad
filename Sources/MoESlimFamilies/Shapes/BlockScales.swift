import MoESlimSupport
import MoESlimFormats

/// The shape check for block-scaled FP8 (quantization_config.quant_method "fp8", DeepSeek-V3's layout): each
/// `<weight>_scale_inv` holds one multiplier per block of `weight_block_size` over the last two axes of its weight,
/// partial edge blocks included, and any leading axes (a fused experts tensor's expert axis) as they are. A scale
/// of any other shape would dequantize rows with another block's multiplier, and a pruned checkpoint whose scales
/// no longer fit its weights must not be published, so describe and verify hold every scale to its weight.
enum BlockScales {
    static func problems(in checkpoint: Checkpoint) -> [MoESlimError] {
        guard let quantization = checkpoint.config?["quantization_config"],
              quantization["quant_method"]?.stringValue?.sameBytes(as: "fp8") == true
        else { return [] }
        // transformers' FineGrainedFP8Config: 128×128 when the key is absent, one scale per tensor when it is null.
        let block: [Int]?
        switch quantization["weight_block_size"] {
        case nil:
            block = [128, 128]
        case .null?:
            block = nil
        case let value?:
            guard let sizes = value.arrayValue?.compactMap(\.intValue), sizes.count == 2, value.arrayValue?.count == 2,
                  sizes.allSatisfy({ $0 > 0 })
            else {
                return [MoESlimError(.invalidConfig, "quantization_config.weight_block_size is \(value.serialized(indent: nil)), not two positive block sizes", path: checkpoint.configPath)]
            }
            block = sizes
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
        func blocks(_ n: Int, _ size: Int) -> Int { n / size + (n % size == 0 ? 0 : 1) }
        let (rows, cols) = (weight[weight.count - 2], weight[weight.count - 1])
        return weight.dropLast(2) + [blocks(rows, block[0]), blocks(cols, block[1])]
    }
}
