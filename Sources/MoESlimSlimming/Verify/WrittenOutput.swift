import MoESlimSupport
import MoESlimFormats

/// The check every writer runs on its finished temporary output before renaming it into place: every rule
/// `moe-slim verify` enforces, and exactly the planned tensors with their dtypes and shapes.
public enum WrittenOutput {
    public static func confirm(
        _ path: String, configPath: String? = nil, againstConfig: Bool = true, holds planned: [OutputTensor]
    ) throws(MoESlimError) {
        try Verifier.verify(path, configPath: configPath, againstConfig: againstConfig)
        let written = try Checkpoint(path: path, configPath: configPath)
        guard written.tensorCount == planned.count else {
            throw MoESlimError(.verifyFailed, "wrote \(written.tensorCount) tensors, planned \(planned.count)", path: path)
        }
        for t in planned {
            guard let info = written.info(t.name), info.dtype == t.dtype, info.shape == t.shape else {
                throw MoESlimError(.verifyFailed, "tensor differs from the plan after writing", path: path, tensor: t.name)
            }
        }
    }
}
