import MoESlimSupport

extension Checkpoint {
    /// Opens the shards (all at once) and checks them in name order against the weight_map, each before the
    /// next is looked at, so the first problem reported is the one a tensor-by-tensor walk meets first. The
    /// map's entries for a shard
    /// are looked up in that shard's own small table (it stays in cache, where one table of every name did
    /// not); a tensor they do not reach is the first failing one, and the whole map then says why.
    static func openIndexed(folder: String, indexPath: String) throws(MoESlimError) -> Opened {
        let map = try WeightMap.read(indexPath)
        let order = map.shards.indices.sorted { map.shards[$0].utf8Precedes(map.shards[$1]) }
        let entriesByShard = map.entriesByShard
        var files: [SafeTensorsFile] = []
        var located = [Bool](repeating: false, count: map.count)
        var starts: [Int] = []
        var hashes: [UInt64] = []
        hashes.reserveCapacity(map.count)
        let paths = order.map { FileSystem.join(folder, map.shards[$0]) }
        for (shard, (shardPath, opened)) in zip(order, zip(paths, ShardOpening.open(paths))) {
            guard let opened else {
                throw MoESlimError(.invalidIndex, "weight_map names shard '\(map.shards[shard])', which is missing", path: indexPath)
            }
            let st = try opened.get()
            let table = st.header.table
            var listed = [Bool](repeating: false, count: table.count)
            for entry in entriesByShard[shard] {
                guard let row = table.position(of: map.nameBytes(at: entry), hash: map.hash(at: entry)) else { continue }
                listed[row] = true
                located[entry] = true
            }
            if let row = listed.firstIndex(of: false) {
                throw unlisted(table.name(at: row), map.position(of: table.nameBytes(at: row), hash: table.index.hashes[row]),
                               in: shardPath, map: map, located: located)
            }
            starts.append(hashes.count)
            hashes.append(contentsOf: table.index.hashes)
            files.append(st)
        }
        if let phantom = located.firstIndex(of: false) {
            throw MoESlimError(.invalidIndex, "weight_map places the tensor in '\(map.shards[map.shard(at: phantom)])', which does not contain it",
                               path: indexPath, tensor: map.name(at: phantom))
        }
        return (order.map { map.shards[$0] }, files, starts, NameIndex(distinctHashes: hashes))
    }

    /// Why a shard's tensor is not one the map places there: it already was in an earlier shard, or the map
    /// places it elsewhere, or nowhere (`entry` is its entry in the map, if any).
    private static func unlisted(_ name: String, _ entry: Int?, in shardPath: String, map: WeightMap, located: [Bool]) -> MoESlimError {
        if let entry, located[entry] {
            return MoESlimError(.invalidIndex, "tensor appears in more than one shard", path: shardPath, tensor: name)
        }
        let claim = entry.map { "weight_map places it in '\(map.shards[map.shard(at: $0)])'" } ?? "weight_map does not list it"
        return MoESlimError(.invalidIndex, "tensor is in this shard but \(claim)", path: shardPath, tensor: name)
    }
}
