import MoESlimFormats

/// Finds which of several prefixes ("model.layers.3.mlp.") a tensor name starts with. Checkpoints list a
/// layer's tensors together, so the prefix that matched last is tried first, and hashing a name's leading
/// bytes is the exception rather than once per prefix length per name.
struct LayerPrefixes {
    /// The prefixes end to end, so that comparing one is a comparison of bytes in place.
    private let spelled: ByteRegion
    private let starts: [Int]
    /// Distinct prefix lengths in bytes, shortest first.
    private let lengths: [Int]
    private let index: NameIndex

    /// A prefix given twice matches at its first position.
    init(_ prefixes: [String]) {
        let bytes = prefixes.flatMap(\.utf8)
        spelled = bytes.withUnsafeBytes { ByteRegion(copying: $0) }
        starts = prefixes.reduce(into: [0]) { $0.append($0.last! + $1.utf8.count) }
        lengths = Set(prefixes.map(\.utf8.count)).sorted()
        index = NameIndex(distinctHashes: prefixes.map(NameHash.of))
    }

    /// The position of the prefix the name starts with and is longer than; `last` (the previous match) is tried first.
    func match(_ name: UnsafeRawBufferPointer, last: Int?) -> Int? {
        if let last, isPrefix(last, of: name) { return last }
        for length in lengths where length < name.count {
            let head = UnsafeRawBufferPointer(rebasing: name[..<length])
            if let found = index.find(hash: NameHash.of(head), isSame: { prefix($0).sameBytes(head) }) {
                return found
            }
        }
        return nil
    }

    private func prefix(_ i: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: spelled.bytes[starts[i] ..< starts[i + 1]])
    }

    private func isPrefix(_ i: Int, of name: UnsafeRawBufferPointer) -> Bool {
        let p = prefix(i)
        return p.count < name.count && p.sameBytes(UnsafeRawBufferPointer(rebasing: name[..<p.count]))
    }
}
