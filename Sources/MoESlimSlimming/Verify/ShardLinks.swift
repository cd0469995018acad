import MoESlimSupport
import MoESlimFormats

/// Shards that are symbolic links to files outside the model folder, grouped by the folder they land in. The
/// Hugging Face cache works this way (snapshots/<revision>/x.safetensors → ../../blobs/<hash>), so it is a note,
/// not a problem: it tells users where the bytes they are checking actually live.
enum ShardLinks {
    static func notes(_ shards: [(name: String, path: String)], folder: String) -> [String] {
        let root = FileSystem.canonical(folder)
        var order: [String] = []
        var byTarget: [ByteName: [String]] = [:]
        for shard in shards {
            let target = FileSystem.canonical(shard.path)
            guard !target.hasBytePrefix(root == "/" ? "/" : root + "/") else { continue }
            let targetFolder = FileSystem.parent(target)
            if byTarget[ByteName(targetFolder)] == nil { order.append(targetFolder) }
            byTarget[ByteName(targetFolder), default: []].append(shard.name)
        }
        return order.map { targetFolder in
            let names = byTarget[ByteName(targetFolder)]!
            let which = names.count == 1 ? "shard \(names[0]) is a link to a file" : "shards \(names.joined(separator: ", ")) are links to files"
            return "\(which) outside the model folder, in \(targetFolder)"
        }
    }
}
