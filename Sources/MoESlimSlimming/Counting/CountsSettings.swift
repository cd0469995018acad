#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MoESlimSupport

/// What `counts merge` checks in the inputs' `settings` before adding them: counts are sums over tokens, so
/// inputs must cover disjoint tokens (or the merge counts some twice) and count them the same way (or the sum
/// mixes two measurements).
public enum CountsSettings {
    /// Settings that change which tokens are counted or what is counted for them. Data file paths and the model
    /// path are not among them: shard jobs on different hosts see the same files under different paths.
    static let compared: [ByteName] = [
        "compute", "seq_len", "max_tokens", "max_records", "template", "group_by", "format", "whole_file",
        "text_field", "skip_bad",
    ]

    /// The data as calibrate saw it, for telling whether two runs read the same data: each file's name (without
    /// its folder) and size in bytes.
    public static func dataIdentity(_ paths: [String]) -> String {
        paths.map { path in
            var info = stat()
            let size = stat(path, &info) == 0 ? String(info.st_size) : "?"
            return (path.byteSplit("/").last ?? path) + ":" + size
        }.joined(separator: ",")
    }

    /// One line per compared setting on which an input differs from the first input, naming both.
    public static func mismatches(_ parts: [(counts: ExpertCounts, path: String)]) -> [String] {
        guard let first = parts.first else { return [] }
        var lines: [String] = []
        for (counts, path) in parts.dropFirst() {
            for key in compared where !same(counts.settings[key], first.counts.settings[key]) {
                lines.append("\(key) is \(shown(counts.settings[key])) in \(path) but \(shown(first.counts.settings[key])) in \(first.path)")
            }
        }
        return lines
    }

    /// Refuses an input given twice (the same file under two paths too) and inputs that cover the same records of
    /// the same data: the same `--shard`, shards i/n and j/m that share records, or two runs over all of it.
    static func checkDisjoint(_ parts: [(counts: ExpertCounts, path: String)]) throws(MoESlimError) {
        var seen: [(id: FileID, path: String)] = []
        for (i, part) in parts.enumerated() {
            if let id = FileID(part.path) {
                if let earlier = seen.first(where: { $0.id == id }) {
                    throw MoESlimError(.invalidCounts, "is the same file as \(earlier.path); merging it twice would count its tokens twice", path: part.path)
                }
                seen.append((id, part.path))
            }
            for earlier in parts[..<i] {
                guard let data = dataKey(part.counts), let other = dataKey(earlier.counts), data.sameBytes(as: other),
                      let overlap = sharedRecords(shards(part.counts), shards(earlier.counts)) else { continue }
                throw MoESlimError(.invalidCounts, "covers the same records of the same data as \(earlier.path) (\(overlap)); merging would count them twice", path: part.path)
            }
        }
    }

    /// The settings a merged file keeps: the compared ones and the data identity where every input agrees,
    /// the shards covered when all are shards of the same data, the inputs, and which settings differed.
    static func merged(_ parts: [(counts: ExpertCounts, path: String)]) -> [ByteName: String] {
        var out: [ByteName: String] = ["merged_from": parts.map(\.path).joined(separator: ",")]
        guard let first = parts.first?.counts.settings else { return out }
        for key in compared + ["data_id", "data"] {
            if let value = first[key], parts.allSatisfy({ same($0.counts.settings[key], value) }) { out[key] = value }
        }
        let covered = parts.map { shards($0.counts) }
        if (out["data_id"] ?? out["data"]) != nil, covered.allSatisfy({ $0 != nil }) {
            out["shards"] = covered.compactMap { $0 }.joined().map { "\($0.index)/\($0.count)" }.joined(separator: ",")
        }
        let differing = compared.filter { key in parts.contains { !same($0.counts.settings[key], first[key]) } }
        if !differing.isEmpty { out["mismatched_settings"] = differing.map(\.string).joined(separator: ",") }
        return out
    }

    private static func same(_ a: String?, _ b: String?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case let (a?, b?): return a.sameBytes(as: b)
        default: return false
        }
    }

    private static func shown(_ value: String?) -> String { value.map { "'\($0)'" } ?? "not set" }

    private static func dataKey(_ counts: ExpertCounts) -> String? { counts.settings["data_id"] ?? counts.settings["data"] }

    /// The `--shard i/n` parts a file covers (several for a merged file); nil for all of the data.
    private static func shards(_ counts: ExpertCounts) -> [(index: Int, count: Int)]? {
        guard let text = counts.settings["shards"] ?? counts.settings["shard"] else { return nil }
        var out: [(index: Int, count: Int)] = []
        for spec in text.byteSplit(",") {
            let parts = spec.byteSplit("/")
            guard parts.count == 2, let i = parts[0].plainIndex, let n = parts[1].plainIndex, n > 0, i < n else { return nil }
            out.append((i, n))
        }
        return out
    }

    /// A record r is in shard i/n when r mod n = i; shards i/n and j/m share records exactly when i ≡ j modulo
    /// gcd(n, m). Nil when no record is in both.
    private static func sharedRecords(_ a: [(index: Int, count: Int)]?, _ b: [(index: Int, count: Int)]?) -> String? {
        guard let a, let b else {
            let shard = (a ?? b)?.first.map { "shard \($0.index)/\($0.count) and all records" } ?? "all records, twice"
            return shard
        }
        for x in a {
            for y in b where (x.index - y.index) % gcd(x.count, y.count) == 0 {
                return "shards \(x.index)/\(x.count) and \(y.index)/\(y.count)"
            }
        }
        return nil
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}

/// A file's device and inode: the same file reached by two paths (a link, `./a` and `a`) is one file.
private struct FileID: Equatable {
    let device: UInt64
    let inode: UInt64

    init?(_ path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}
