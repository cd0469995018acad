import ArgumentParser
import MoESlimSlimming

/// `--keep-super-experts` and its threshold, shared by prune and sweep.
struct SuperExpertOptions: ParsableArguments {
    @Flag(help: "Keep the super experts found in --counts (max_abs_output, REAP's rule: above max(99.5th percentile, largest / 10), in the first 75% of MoE layers) whatever the criterion says.")
    var keepSuperExperts = false

    @Option(help: "With --keep-super-experts: this threshold on max_abs_output instead of REAP's.")
    var superThreshold: Double?

    @Flag(help: "With --keep-super-experts: look in every MoE layer, not only the first 75% (REAP's outlier variant).")
    var superInAllLayers = false

    func validate() throws {
        if !keepSuperExperts && (superThreshold != nil || superInAllLayers) {
            throw ValidationError("--super-threshold and --super-in-all-layers go with --keep-super-experts")
        }
        if let superThreshold, !(superThreshold >= 0 && superThreshold.isFinite) {
            throw ValidationError("--super-threshold must be a finite number ≥ 0")
        }
    }

    var rule: SuperExperts.Rule? {
        keepSuperExperts ? SuperExperts.Rule(threshold: superThreshold, allLayers: superInAllLayers) : nil
    }
}
