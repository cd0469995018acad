/// Every tensor of one header in a few flat arrays, with a name index: a 90,000-tensor header as 90,000
/// TensorInfo values meant 90,000 shape arrays and 90,000 Strings, which cost more to make and free than
/// everything `report` does with them. Names stay ranges of the header's bytes (the mapped file itself);
/// Strings and TensorInfo values are made on request.
package struct TensorTable: Sendable {
    package struct Entry: Sendable {
        package var begin: Int
        package var end: Int
        /// The name is `nameBytes.bytes[nameStart ..< nameStart + nameCount]`.
        var nameStart: Int
        var nameCount: Int32
        /// The shape is `dims[shapeStart ..< shapeStart + rank]`. Both fit: a header is at most 100 MB.
        var shapeStart: Int32
        var rank: Int32
        package var dtype: DType
    }

    package let entries: [Entry]
    package let dims: [Int]
    package let index: NameIndex
    /// What the names are ranges of, held so that they stay valid as long as the table.
    package let nameBytes: ByteRegion

    package var count: Int { entries.count }

    /// Valid while the table (or anything holding its region) lives.
    package func nameBytes(at i: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: nameBytes.bytes[entries[i].nameStart ..< entries[i].nameStart + Int(entries[i].nameCount)])
    }

    package func name(at i: Int) -> String { String(decoding: nameBytes(at: i), as: UTF8.self) }

    /// Every name as a String, made afresh on each call.
    package var names: [String] { entries.indices.map(name(at:)) }

    package func position(of name: String) -> Int? {
        var key = name
        return key.withUTF8 { position(of: UnsafeRawBufferPointer($0), hash: NameHash.of(UnsafeRawBufferPointer($0))) }
    }

    /// For a name whose NameHash is known (another table's).
    package func position(of name: UnsafeRawBufferPointer, hash: UInt64) -> Int? {
        index.find(hash: hash) { nameBytes(at: $0).sameBytes(name) }
    }

    package func shape(at i: Int) -> ArraySlice<Int> {
        dims[Int(entries[i].shapeStart) ..< Int(entries[i].shapeStart) + Int(entries[i].rank)]
    }

    package func elementCount(at i: Int) -> Int { shape(at: i).reduce(1, *) }

    package func info(at i: Int) -> TensorInfo {
        let e = entries[i]
        return TensorInfo(name: name(at: i), dtype: e.dtype, shape: Array(shape(at: i)), begin: e.begin, end: e.end)
    }

    /// True when the header already lists tensors in data order, as writers do; then no reordering is needed.
    var isInDataOrder: Bool {
        entries.indices.dropFirst().allSatisfy { !Self.precedes(entries[$0], entries[$0 - 1]) }
    }

    /// The same tensors in data order: by (begin, end), ties in header order.
    func inDataOrder() -> TensorTable {
        let order = entries.indices.sorted { a, b in
            Self.precedes(entries[a], entries[b]) || (!Self.precedes(entries[b], entries[a]) && a < b)
        }
        var sortedDims: [Int] = []
        sortedDims.reserveCapacity(dims.count)
        let sortedEntries = order.map { i in
            var e = entries[i]
            e.shapeStart = Int32(sortedDims.count)
            sortedDims.append(contentsOf: shape(at: i))
            return e
        }
        return TensorTable(entries: sortedEntries, dims: sortedDims,
                           index: NameIndex(distinctHashes: order.map { index.hashes[$0] }), nameBytes: nameBytes)
    }

    private static func precedes(_ a: Entry, _ b: Entry) -> Bool { (a.begin, a.end) < (b.begin, b.end) }
}
