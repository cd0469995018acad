extension DType {
    /// The dtype a header spells with these bytes, found without making a String: it runs once per tensor, and
    /// `init(rawValue:)` compares Strings one case at a time.
    package init?(spelling: UnsafeRawBufferPointer) {
        guard spelling.count <= 16 else { return nil }
        let key = Spelling(spelling)
        guard let match = Self.spellings.first(where: { $0.key == key }) else { return nil }
        self = match.dtype
    }

    private static let spellings: [(key: Spelling, dtype: DType)] = allCases.map { dtype in
        var raw = dtype.rawValue
        return (raw.withUTF8 { Spelling(UnsafeRawBufferPointer($0)) }, dtype)
    }
}

/// Up to 16 bytes packed into two words with their count, so a match is three integer comparisons.
private struct Spelling: Equatable {
    var low: UInt64 = 0
    var high: UInt64 = 0
    var count: Int

    init(_ bytes: UnsafeRawBufferPointer) {
        count = bytes.count
        for (i, byte) in bytes.enumerated() {
            if i < 8 { low |= UInt64(byte) << (8 * UInt64(i)) } else { high |= UInt64(byte) << (8 * UInt64(i - 8)) }
        }
    }
}
