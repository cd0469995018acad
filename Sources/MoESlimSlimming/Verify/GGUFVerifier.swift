import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies

/// `verify` for a GGUF: every rule of formats/gguf.md on every part of the model, then the parts against each
/// other, then the tensors against the architecture's hyperparameters. A part's header is read front to back,
/// so within one file the first broken rule is the one reported; each part is reported on its own.
enum GGUFVerifier {
    static func check(_ path: String, scan: Bool) -> VerifyReport {
        var report = VerifyReport(path: path)
        guard FileSystem.exists(path) else {
            report.problems.append(MoESlimError(.io, "no such file or folder", path: path))
            return report
        }
        let names: [String]
        do {
            names = try GGUFModel.partPaths(of: path)
        } catch {
            report.problems.append(error)
            return report
        }
        if names.count > 1 {
            for name in names where FileSystem.exists(name) {
                do { _ = try GGUFFile(path: name) } catch { report.problems.append(error) }
            }
            guard report.passed else { return report }
        }
        let model: GGUFModel
        do {
            model = try GGUFModel(path: path)
        } catch {
            report.problems.append(error)
            return report
        }
        report.shards = model.parts.map { FileSystem.lastComponent($0.path) }
        report.tensorCount = model.tensors.count
        report.bytes = model.totalBytes
        if let type = model.value("general.type")?.text, type.sameBytes(as: "imatrix") {
            report.notes.append("an importance matrix (general.type 'imatrix'), not a model: the model checks do not apply")
        } else {
            do {
                let description = try GGUFArchitectures.describe(model)
            report.modelType = description.modelType
            report.moeLayerCount = description.moeLayers.count
                report.maxExperts = description.maxExperts
            } catch {
                report.problems.append(error)
            }
        }
        if scan { scanData(model, into: &report) }
        return report
    }

    /// NaN and infinity counts of every F16, BF16, F32 and F64 tensor; quantized blocks are not decoded.
    private static func scanData(_ model: GGUFModel, into report: inout VerifyReport) {
        var scanned = 0
        for (part, info) in model.tensors {
            let dtype: DType
            switch info.type.name {
            case "F16": dtype = .F16
            case "BF16": dtype = .BF16
            case "F32": dtype = .F32
            case "F64": dtype = .F64
            default: continue
            }
            scanned += 1
            let file = model.parts[part]
            var count = NonFiniteCount(tensor: info.name, shard: FileSystem.lastComponent(file.path))
            NonFiniteScan.count(file.bytes(of: info), dtype: dtype, into: &count)
            if count.total > 0 {
                report.nonFinite.append(count)
                report.problems.append(MoESlimError(.invalidData, "has non-finite values: \(count.nan) NaN, \(count.positiveInfinity) +Inf, \(count.negativeInfinity) -Inf", path: file.path, tensor: info.name))
            }
        }
        report.scannedTensors = scanned
    }
}
