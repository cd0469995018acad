#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// What `--force` may replace in an existing output folder: the files a checkpoint consists of, and the
/// companion files this run copies from its input folder. Anything else (a subfolder, someone's notes, weights
/// in another format) is not ours to delete, so the command refuses and names it.
enum CheckpointMembers {
    /// Files a Hugging Face model folder holds besides its shards, as bytes (names are compared as bytes).
    static let knownNames: Set<[UInt8]> = Set([
        "config.json", "generation_config.json", Checkpoint.indexName, "tokenizer.json", "tokenizer_config.json",
        "special_tokens_map.json", "added_tokens.json", "tokenizer.model", "vocab.json", "vocab.txt", "merges.txt",
        "chat_template.jinja", "chat_template.json",
        // The model card: prune writes one (the input's with a note appended, or the note alone).
        "README.md",
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

    private static func companionNames(_ folder: String) -> Set<[UInt8]> {
        Set((try? PruneWriter.companionFiles(of: folder).copied.map { Array($0.name.utf8) }) ?? [])
    }
}

private extension Array where Element == UInt8 {
    func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && self[(count - suffix.count)...].elementsEqual(suffix) }
}
