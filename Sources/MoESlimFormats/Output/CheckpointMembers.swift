#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MoESlimSupport

/// What `--force` may replace in an existing output folder: the files a checkpoint consists of, and the
/// companion files this run copies from its input folder. Anything else (a subfolder, someone's notes, weights
/// in another format) is not ours to delete, so the command refuses and names it.
package enum CheckpointMembers {
    /// Files a Hugging Face model folder holds besides its shards, as bytes (names are compared as bytes).
    static let knownNames: Set<[UInt8]> = Set([
        "config.json", "generation_config.json", Checkpoint.indexName, "tokenizer.json", "tokenizer_config.json",
        "special_tokens_map.json", "added_tokens.json", "tokenizer.model", "vocab.json", "vocab.txt", "merges.txt",
        "chat_template.jinja", "chat_template.json",
    ].map { Array($0.utf8) })

    private static let shardSuffix = Array(".safetensors".utf8)

    /// The first entry (in byte order) that is not part of a checkpoint, or nil when --force may replace the
    /// folder. Entries are judged by what they are, links not followed: a link is a member by its name alone
    /// (removing it loses nothing), a subfolder never is.
    static func firstForeignEntry(in folder: String, companionsFrom input: String?) -> String? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return folder }
        let companions = input.map(companionNames) ?? []
        for name in names.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            var st = stat()
            // An entry that cannot be examined (a name Foundation could not spell back) is never taken for a member.
            guard lstat(FileSystem.join(folder, name), &st) == 0 else { return name }
            let kind = st.st_mode & S_IFMT
            let bytes = Array(name.utf8)
            let member = (kind == S_IFREG || kind == S_IFLNK)
                && (bytes.ends(with: shardSuffix) || knownNames.contains(bytes) || companions.contains(bytes))
            if !member { return name }
        }
        return nil
    }

    /// Weights in other formats (a repository's consolidated.*.pt, pytorch_model.bin, GGUF): copying them
    /// would ship the unpruned model under the pruned one's name.
    static let unprunedWeightSuffixes = [".bin", ".pt", ".pth", ".ckpt", ".gguf", ".h5", ".msgpack", ".onnx", ".index.json"]

    /// Files of a model folder that travel with the weights (tokenizer, generation config, chat template,
    /// README, licence): everything but weights, their indexes and the config we rewrite. Returns the files
    /// left behind too, so the command can say so.
    package static func companionFiles(of folder: String) throws(MoESlimError) -> (copied: [CheckpointWriter.ExtraFile], skipped: [String]) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted { $0.utf8Precedes($1) }
        } catch {
            throw MoESlimError(.io, "cannot list the model folder", path: folder)
        }
        var files: [CheckpointWriter.ExtraFile] = []
        var skipped: [String] = []
        for name in names where !name.hasBytePrefix(".") && !name.hasByteSuffix(".safetensors") && !name.sameBytes(as: "config.json")
            && !name.sameBytes(as: Checkpoint.indexName) {
            let path = FileSystem.join(folder, name)
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else { continue }
            if unprunedWeightSuffixes.contains(where: { name.hasByteSuffix($0) }) {
                skipped.append(name)
            } else {
                files.append(.init(name: name, copyOf: path))
            }
        }
        return (files, skipped)
    }

    private static func companionNames(_ folder: String) -> Set<[UInt8]> {
        Set((try? companionFiles(of: folder).copied.map { Array($0.name.utf8) }) ?? [])
    }
}

private extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && self[(count - suffix.count)...].elementsEqual(suffix) }
}
