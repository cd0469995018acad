import ArgumentParser
import MoESlimFormats

/// merge-lora's --dtype: keep each tensor's stored type, or write every float tensor as one type. The other
/// names torch and transformers use (bfloat16, fp16, float32, …) are accepted too, in any case.
enum OutputDType: String, CaseIterable, ExpressibleByArgument {
    case keep, bf16, f16, f32

    init?(argument: String) {
        switch argument.lowercased() {
        case "keep": self = .keep
        case "bf16", "bfloat16": self = .bf16
        case "f16", "fp16", "float16": self = .f16
        case "f32", "fp32", "float32": self = .f32
        default: return nil
        }
    }

    /// The type to write, nil to keep the input's.
    var storage: DType? {
        switch self {
        case .keep: return nil
        case .bf16: return .BF16
        case .f16: return .F16
        case .f32: return .F32
        }
    }
}
