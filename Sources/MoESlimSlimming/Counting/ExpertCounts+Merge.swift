import MoESlimSupport

extension ExpertCounts.Layer {
    /// Whether absorbing `other` keeps every integer sum in range (tokens, exact sums).
    func canAbsorb(_ other: ExpertCounts.Layer) -> Bool {
        guard !tokens.addingReportingOverflow(other.tokens).overflow else { return false }
        guard let mine = exact, let theirs = other.exact else { return true }
        return mine.canAbsorb(theirs)
    }

    /// Exact when both sides carry fixed-point sums (every file calibrate writes); files without them (edited
    /// by hand, or from elsewhere) still add up, to floating-point rounding.
    mutating func absorb(_ other: ExpertCounts.Layer) {
        tokens += other.tokens
        for statistic in ExpertStatistic.allCases {
            for j in sums[statistic].indices {
                sums[statistic][j] = statistic.merged(sums[statistic][j], other.sums[statistic][j])
            }
        }
        if var mine = exact, let theirs = other.exact {
            mine.absorb(theirs)
            exact = mine
            refreshFromExact()
        } else {
            exact = nil
        }
    }
}

extension ExpertCounts {
    /// Sums counts made on disjoint parts of the data. Counts of another model (fingerprint), another layer
    /// set or another format version are refused: adding them would produce numbers that mean nothing. So are
    /// inputs that overlap (CountsSettings.checkDisjoint) and, unless allowed, inputs counted with different
    /// settings (CountsSettings.mismatches).
    public static func merged(
        _ parts: [(counts: ExpertCounts, path: String)], allowingMismatchedSettings: Bool = false
    ) throws(MoESlimError) -> ExpertCounts {
        guard var total = parts.first?.counts else {
            throw MoESlimError(.invalidArgument, "counts merge needs at least one counts file")
        }
        try CountsSettings.checkDisjoint(parts)
        let mismatched = CountsSettings.mismatches(parts)
        if let first = mismatched.first, !allowingMismatchedSettings {
            throw MoESlimError(.invalidCounts, "counts were made with other settings: \(first); pass --allow-mismatched-settings to add them anyway")
        }
        total.settings = CountsSettings.merged(parts)
        for (counts, path) in parts.dropFirst() {
            guard counts.fingerprint.sameBytes(as: total.fingerprint), counts.modelType.sameBytes(as: total.modelType) else {
                throw MoESlimError(.invalidCounts, "counts were made on another model (fingerprint \(counts.fingerprint), the first file's is \(total.fingerprint))", path: path)
            }
            guard counts.layers.map(\.layer) == total.layers.map(\.layer),
                  zip(counts.layers, total.layers).allSatisfy({ $0.experts == $1.experts })
            else {
                throw MoESlimError(.invalidCounts, "counts cover other layers or expert counts than the first file", path: path)
            }
            let overflowing = total.tokens.addingReportingOverflow(counts.tokens).overflow
                || total.sequences.addingReportingOverflow(counts.sequences).overflow
                || !zip(total.layers, counts.layers).allSatisfy({ $0.canAbsorb($1) })
                || (counts.groups ?? [:]).contains { name, layers in
                    total.groups?[name].map { zip($0, layers).contains { !$0.canAbsorb($1) } } ?? false
                }
            guard !overflowing else {
                throw MoESlimError(.invalidCounts, "adding its counts to the earlier files' overflows the sums; the counts are not real", path: path)
            }
            total.tokens += counts.tokens
            total.sequences += counts.sequences
            for i in total.layers.indices { total.layers[i].absorb(counts.layers[i]) }
            if let groups = counts.groups {
                var merged = total.groups ?? [:]
                for (name, layers) in groups {
                    guard var existing = merged[name] else {
                        merged[name] = layers
                        continue
                    }
                    guard existing.count == layers.count else {
                        throw MoESlimError(.invalidCounts, "group '\(name)' covers other layers than in the first file", path: path)
                    }
                    for i in existing.indices { existing[i].absorb(layers[i]) }
                    merged[name] = existing
                }
                total.groups = merged
            }
        }
        return total
    }
}
