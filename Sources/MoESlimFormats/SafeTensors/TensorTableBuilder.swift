/// Collects a header's tensors in the order they are parsed; the name index is built once at the end.
struct TensorTableBuilder {
    private var hashes: [UInt64] = []
    private var entries: [TensorTable.Entry] = []
    private var dims: [Int] = []

    /// Capacity only: reserved pages a smaller header never touches cost nothing.
    init(expectedCount: Int) {
        hashes.reserveCapacity(expectedCount)
        entries.reserveCapacity(expectedCount)
        dims.reserveCapacity(2 * expectedCount)
    }

    /// The name is `nameCount` bytes at `nameStart` of the region the table will be given, with that NameHash.
    mutating func add(nameStart: Int, nameCount: Int, hash: UInt64, dtype: DType, shape: [Int], begin: Int, end: Int) {
        hashes.append(hash)
        entries.append(TensorTable.Entry(begin: begin, end: end, nameStart: nameStart, nameCount: Int32(nameCount),
                                         shapeStart: Int32(dims.count), rank: Int32(shape.count), dtype: dtype))
        dims.append(contentsOf: shape)
    }

    /// Nil when two tensors have the same name.
    func table(names: ByteRegion) -> TensorTable? {
        let entries = self.entries
        func name(_ i: Int) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(rebasing: names.bytes[entries[i].nameStart ..< entries[i].nameStart + Int(entries[i].nameCount)])
        }
        guard let index = NameIndex(hashes: hashes, isSame: { name($0).sameBytes(name($1)) }) else { return nil }
        return TensorTable(entries: entries, dims: dims, index: index, nameBytes: names)
    }

    /// For tensors the strict parser read: its duplicate-key rule already refused a repeated name.
    func distinctTable(names: ByteRegion) -> TensorTable {
        TensorTable(entries: entries, dims: dims, index: NameIndex(distinctHashes: hashes), nameBytes: names)
    }
}
