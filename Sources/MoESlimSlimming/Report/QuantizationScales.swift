import MoESlimSupport

/// The tensors of a quantized checkpoint that hold scales rather than weights, by the names their formats give
/// them: FP8 block scales (`weight_scale_inv`, fused `gate_up_proj_scale_inv`), compressed-tensors'
/// (`weight_scale`, `weight_global_scale`, `weight_zero_point`, `input_scale`, `input_global_scale`) and MXFP4's
/// `_scales`. They stay in their component's bytes, where they are stored; the report also states their sum, so
/// what the scales cost (and what a prune removes of them) is visible beside the weights.
enum QuantizationScales {
    private static let suffixes: [StaticString] = [
        "_scale_inv", ".weight_scale", ".weight_global_scale", ".weight_zero_point", ".input_scale", ".input_global_scale", "_scales",
    ]

    static func isScale(_ name: UnsafeRawBufferPointer) -> Bool {
        suffixes.contains { suffix in
            let n = suffix.utf8CodeUnitCount
            return name.count >= n && UnsafeRawBufferPointer(rebasing: name[(name.count - n)...]).spells(suffix)
        }
    }

    static func isScale(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { isScale(UnsafeRawBufferPointer($0)) }
    }
}
