extension Checkpoint {
    /// Every path the checkpoint is read from, for the output checks: what the user named, config.json, and
    /// for a folder its index and every shard (shards may be links to files elsewhere, as in the Hugging Face
    /// cache). A single file's folder is not among them: writing beside a model file is fine.
    public var inputPaths: [String] {
        var paths = [path, configPath]
        if isFolder { paths += [FileSystem.join(folder, Self.indexName)] + shards.map(\.path) }
        return paths
    }
}
