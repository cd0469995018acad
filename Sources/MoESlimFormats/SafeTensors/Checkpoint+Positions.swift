/// Tensors by position in `names` order (shard order, then data order), read from the shards' tables without
/// making Strings or TensorInfo values: what `describe`, `report` and `inspect` walk 90,000 tensors with.
extension Checkpoint {
    /// Where a tensor is in `names` order.
    package func index(of name: String) -> Int? {
        var key = name
        return key.withUTF8 { utf8 in
            let bytes = UnsafeRawBufferPointer(utf8)
            let hash = NameHash.of(bytes)
            guard let nameIndex else { return shards.first?.header.table.position(of: bytes, hash: hash) }
            return nameIndex.find(hash: hash) { nameBytes(at: $0).sameBytes(bytes) }
        }
    }

    /// The shard holding the tensor at `position`, and its row in that shard's table.
    package func place(_ position: Int) -> (shard: Int, row: Int) {
        var (shard, after) = (0, shardStarts.count)
        while after - shard > 1 {
            let middle = (shard + after) / 2
            if shardStarts[middle] <= position { shard = middle } else { after = middle }
        }
        return (shard, position - shardStarts[shard])
    }

    /// Valid while the checkpoint lives.
    package func nameBytes(at position: Int) -> UnsafeRawBufferPointer {
        let (shard, row) = place(position)
        return shards[shard].header.table.nameBytes(at: row)
    }

    /// Every tensor in `names` order: its position, its shard's table and its row there.
    package func forEachTensor(_ body: (Int, TensorTable, Int) -> Void) {
        for (shard, file) in shards.enumerated() {
            let table = file.header.table
            for row in 0..<table.count { body(shardStarts[shard] + row, table, row) }
        }
    }
}

extension Checkpoint {
    /// The shape and dtype of the tensor at a position, without making its name.
    package func shapeAndType(at position: Int) -> (shape: ArraySlice<Int>, dtype: DType) {
        let (shard, row) = place(position)
        let table = shards[shard].header.table
        return (table.shape(at: row), table.entries[row].dtype)
    }
}
