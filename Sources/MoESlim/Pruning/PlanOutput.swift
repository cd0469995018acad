/// Where `--plan-out` may write: never over or inside the model being read or written, never over the counts
/// or plan it was made from, and over an existing file only with --force.
public enum PlanOutput {
    public static func check(
        _ path: String, input: String, output: String?, counts: String?, plan: String?, force: Bool
    ) throws(MoESlimError) {
        let target = FileSystem.canonical(path)
        for protected in [input, output].compactMap({ $0 }) {
            let other = FileSystem.canonical(protected)
            if target == other || target.hasPrefix(other + "/") {
                throw MoESlimError(.invalidArgument, "--plan-out would write over or inside \(protected)", path: path)
            }
        }
        for source in [counts, plan].compactMap({ $0 }) where FileSystem.canonical(source) == target {
            throw MoESlimError(.invalidArgument, "--plan-out would overwrite its own source \(source)", path: path)
        }
        if FileSystem.exists(path) && !force {
            throw MoESlimError(.outputExists, "plan file already exists (use --force to replace it)", path: path)
        }
    }
}
