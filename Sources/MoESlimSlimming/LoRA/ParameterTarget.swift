import MoESlimFormats
import MoESlimFamilies

/// Where a parameter of the training-time model lives in the checkpoint, and the (experts, in, out) view PEFT's
/// ParamWrapper takes of it.
struct ParameterTarget {
    enum Storage {
        /// A stored tensor with the same name (after the family's renames) and layout.
        case tensor(String)
        /// A fused expert stack stored one tensor per expert, `parts[e][k]` stacked along the output rows.
        case perExpert([[String]], rows: [Int])
    }

    var storage: Storage
    var experts: Int
    var inFeatures: Int
    var outFeatures: Int
    /// A 3D stack stored (experts, in, out) rather than (experts, out, in).
    var expertsTransposed: Bool

    /// Follows the family's names from a training-time parameter to the checkpoint; nil when nothing matches.
    static func resolve(_ name: String, in checkpoint: Checkpoint, names: AdapterNameMap) -> ParameterTarget? {
        for candidate in [name, names.diskName(name)] {
            guard let info = checkpoint.info(candidate) else { continue }
            switch info.shape.count {
            case 2:
                return ParameterTarget(storage: .tensor(candidate), experts: 1, inFeatures: info.shape[1], outFeatures: info.shape[0], expertsTransposed: false)
            case 3 where names.transposedExperts:
                return ParameterTarget(storage: .tensor(candidate), experts: info.shape[0], inFeatures: info.shape[1], outFeatures: info.shape[2], expertsTransposed: true)
            case 3:
                return ParameterTarget(storage: .tensor(candidate), experts: info.shape[0], inFeatures: info.shape[2], outFeatures: info.shape[1], expertsTransposed: false)
            default:
                return ParameterTarget(storage: .tensor(candidate), experts: 1, inFeatures: 0, outFeatures: 0, expertsTransposed: false)
            }
        }
        let renamed = names.diskName(name)
        for fused in names.fusedExperts where renamed.hasByteSuffix("." + fused.training) || renamed.sameBytes(as: fused.training) {
            let folder = renamed.dropLastBytes(fused.training.utf8.count) + (fused.training.byteSplit(".").first ?? "") + "."
            var parts: [[String]] = []
            while fused.parts.allSatisfy({ checkpoint.contains(folder + "\(parts.count)." + $0) }) {
                parts.append(fused.parts.map { folder + "\(parts.count)." + $0 })
            }
            guard let first = parts.first else { continue }
            let infos = first.compactMap { checkpoint.info($0) }
            guard infos.count == first.count, infos.allSatisfy({ $0.shape.count == 2 && $0.shape[1] == infos[0].shape[1] }) else { continue }
            let rows = infos.map { $0.shape[0] }
            return ParameterTarget(storage: .perExpert(parts, rows: rows), experts: parts.count, inFeatures: infos[0].shape[1],
                                   outFeatures: rows.reduce(0, +), expertsTransposed: false)
        }
        return nil
    }
}
