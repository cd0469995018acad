import Foundation
import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies

/// Checks a checkpoint against every rule of formats/safetensors.md and against its config.json, collecting all
/// problems instead of stopping at the first, so one run of `moe-slim verify` shows everything wrong with a
/// download. prune and merge-lora call `verify` on their temporary output before renaming it into place.
public enum Verifier {
    /// Throws the first problem found; `configPath` stands in for config.json beside `path` (a single file
    /// written beside a staged config).
    /// `againstConfig: false` checks the files alone (merge-lora writes models of any architecture).
    public static func verify(_ path: String, configPath: String? = nil, againstConfig: Bool = true) throws(MoESlimError) {
        if let first = check(path, configPath: configPath, scan: false, againstConfig: againstConfig).problems.first { throw first }
    }

    public static func check(_ path: String, configPath: String? = nil, scan: Bool, againstConfig: Bool = true) -> VerifyReport {
        var report = VerifyReport(path: path)
        let opened: [(name: String, file: SafeTensorsFile)]
        if FileSystem.isDirectory(path) {
            opened = openFolder(path, into: &report)
        } else if FileSystem.exists(path) {
            opened = openShards([((path as NSString).lastPathComponent, path)], into: &report)
        } else {
            report.problems.append(MoESlimError(.io, "no such file or folder", path: path))
            return report
        }
        report.shards = opened.map(\.name)
        report.tensorCount = opened.reduce(0) { $0 + $1.file.header.count }
        report.bytes = opened.reduce(0) { $0 + $1.file.header.dataLength }
        report.notes += ShardLinks.notes(opened.map { ($0.name, $0.file.path) }, folder: FileSystem.isDirectory(path) ? path : FileSystem.parent(path))
        if report.passed && againstConfig { checkModel(path, configPath: configPath, into: &report) }
        if scan { scanData(opened, into: &report) }
        return report
    }

    private static func openFolder(_ folder: String, into report: inout VerifyReport) -> [(name: String, file: SafeTensorsFile)] {
        let indexPath = FileSystem.join(folder, Checkpoint.indexName)
        let named: [String]
        var index: JSONValue?
        if FileSystem.exists(indexPath) {
            guard let (shards, json) = indexedShards(indexPath, into: &report) else { return [] }
            named = shards
            index = json
        } else {
            named = ["model.safetensors"]
        }
        let present = Set(safetensorsFiles(in: folder, into: &report).map { ByteName($0) })
        if !FileSystem.exists(indexPath) && !present.contains(ByteName("model.safetensors")) {
            report.problems.append(MoESlimError(.io, "folder has neither \(Checkpoint.indexName) nor model.safetensors", path: folder))
            return []
        }
        for stray in present.subtracting(named.map { ByteName($0) }).sorted() {
            let reason = FileSystem.exists(indexPath)
                ? "is a .safetensors file that \(Checkpoint.indexName) does not name"
                : "is a .safetensors file beside model.safetensors but the folder has no \(Checkpoint.indexName)"
            report.problems.append(MoESlimError(.invalidIndex, "'\(stray)' \(reason)", path: folder))
        }
        var shards: [(String, String)] = []
        for name in named {
            if present.contains(ByteName(name)) {
                shards.append((name, FileSystem.join(folder, name)))
            } else {
                report.problems.append(MoESlimError(.invalidIndex, "weight_map names shard '\(name)', which is missing", path: indexPath))
            }
        }
        let opened = openShards(shards, into: &report)
        if let index, opened.count == named.count {
            let tensorBytes = opened.reduce(0) { sum, shard in shard.file.header.table.entries.reduce(sum) { $0 + $1.end - $1.begin } }
            if let warning = IndexTotalSize.warning(index, indexPath: indexPath, tensorBytes: tensorBytes) {
                report.warnings.append(warning)
            }
        }
        return opened
    }

    /// The shard names the index uses, each checked against the folder-escape rules, and the index itself; nil
    /// when the index cannot be read at all.
    private static func indexedShards(_ indexPath: String, into report: inout VerifyReport) -> ([String], JSONValue)? {
        let index: JSONValue
        do {
            index = try InputFile.readJSON(indexPath, as: .index)
        } catch {
            report.problems.append(error)
            return nil
        }
        guard let map = index["weight_map"]?.objectMembers else {
            report.problems.append(MoESlimError(.invalidIndex, "index has no weight_map object", path: indexPath))
            return nil
        }
        var names: [String] = []
        var seen = Set<ByteName>()
        for (tensor, value) in map {
            guard let shard = value.stringValue else {
                report.problems.append(MoESlimError(.invalidIndex, "weight_map entry is not a string", path: indexPath, tensor: tensor))
                continue
            }
            guard seen.insert(ByteName(shard)).inserted else { continue }
            do {
                try Checkpoint.validateShardName(shard, indexPath: indexPath)
                names.append(shard)
            } catch {
                report.problems.append(error)
            }
        }
        return (names.sorted { $0.utf8Precedes($1) }, index)
    }

    private static func safetensorsFiles(in folder: String, into report: inout VerifyReport) -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasByteSuffix(".safetensors") }
        } catch {
            report.problems.append(MoESlimError(.io, "cannot list the folder", path: folder))
            return []
        }
    }

    private static func openShards(_ shards: [(name: String, path: String)], into report: inout VerifyReport) -> [(name: String, file: SafeTensorsFile)] {
        var opened: [(name: String, file: SafeTensorsFile)] = []
        for shard in shards {
            do {
                opened.append((shard.name, try SafeTensorsFile(path: shard.path)))
            } catch {
                report.problems.append(error)
            }
        }
        return opened
    }

    /// Index against shards (through Checkpoint, which enforces every tensor in exactly one shard) and
    /// config against tensors (the model families, then the shapes transformers checks on loading).
    private static func checkModel(_ path: String, configPath: String?, into report: inout VerifyReport) {
        if !FileSystem.isDirectory(path) && configPath == nil {
            guard path.hasSuffix(".safetensors") else {
                report.notes.append("not named .safetensors: model checks skipped")
                return
            }
            guard !FileSystem.exists(FileSystem.join(FileSystem.parent(path), Checkpoint.indexName)) else {
                report.notes.append("one shard of a sharded model: model checks skipped (verify the folder)")
                return
            }
        }
        do {
            let checkpoint = try Checkpoint(path: path, configPath: configPath)
            guard checkpoint.config != nil else {
                report.notes.append("no config.json: model checks skipped")
                return
            }
            let (model, shapeProblems) = try ModelFamilies.describeWithShapeProblems(checkpoint)
            report.modelType = model.modelType
            report.moeLayerCount = model.moeLayers.count
            report.maxExperts = model.maxExperts
            report.problems += shapeProblems
        } catch {
            report.problems.append(error)
        }
    }

    private static func scanData(_ opened: [(name: String, file: SafeTensorsFile)], into report: inout VerifyReport) {
        var scanned = 0
        for (name, file) in opened {
            for tensor in file.header.tensors where tensor.dtype.isFloatingPoint {
                var count = NonFiniteCount(tensor: tensor.name, shard: name)
                NonFiniteScan.count(file.bytes(of: tensor), dtype: tensor.dtype, into: &count)
                file.release(tensor)
                scanned += 1
                guard count.total > 0 else { continue }
                report.nonFinite.append(count)
                report.problems.append(MoESlimError(
                    .invalidData, "has non-finite values: \(count.summary)", path: file.path, tensor: tensor.name))
            }
        }
        report.scannedTensors = scanned
    }
}
