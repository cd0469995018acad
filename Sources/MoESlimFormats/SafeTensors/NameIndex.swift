/// Finds a tensor's position from its name's NameHash, in place of a `[String: Int]`: hashing and comparing
/// Swift Strings was most of the time spent opening a 90,000-tensor checkpoint. Positions are places in the
/// hash list it is built from; the caller owns the names and says whether a candidate is the one sought, so
/// the same table serves names in Strings and names still in an index file's bytes.
///
/// It is built in one pass after parsing rather than one insertion per name between parsing steps: each
/// insertion misses the cache, and in a tight loop the misses overlap.
package struct NameIndex: Sendable {
    /// Each position's hash, kept so that another table can look the same name up without hashing it again.
    let hashes: [UInt64]
    /// Open addressing with linear probing, at most three quarters full (eight slots to a cache line keep the
    /// probes short; every slot array is fresh memory, and its page faults showed in the profile). A slot holds the hash's top 24 bits beside
    /// position + 1 in the low 40 (0 is empty; no process holds 2^40 names), so most mismatches are settled
    /// without touching the names.
    private var slots: [UInt64]
    private static let tagBits: UInt64 = 0xFFFF_FF00_0000_0000

    /// Nil when `isSame(earlier, later)` finds two positions holding the same name; it is asked only about
    /// positions whose hashes agree in the slot's bits.
    package init?(hashes: [UInt64], isSame: (Int, Int) -> Bool) {
        self.init(empty: hashes)
        for (position, hash) in hashes.enumerated() {
            if find(hash: hash, isSame: { isSame($0, position) }) != nil { return nil }
            place(position, hash: hash)
        }
    }

    /// For names known to be distinct (the strict parser refused repeated keys, or a table being reordered).
    package init(distinctHashes hashes: [UInt64]) {
        self.init(empty: hashes)
        for (position, hash) in hashes.enumerated() { place(position, hash: hash) }
    }

    private init(empty hashes: [UInt64]) {
        self.hashes = hashes
        var size = 16
        while 3 * size < 4 * hashes.count { size <<= 1 }
        slots = [UInt64](repeating: 0, count: size)
    }

    package func find(hash: UInt64, isSame: (Int) -> Bool) -> Int? {
        let mask = slots.count - 1
        let tag = hash & Self.tagBits
        var i = Int(truncatingIfNeeded: hash) & mask
        while slots[i] != 0 {
            if slots[i] & Self.tagBits == tag {
                let position = Int(truncatingIfNeeded: slots[i] & ~Self.tagBits) - 1
                if isSame(position) { return position }
            }
            i = (i + 1) & mask
        }
        return nil
    }

    private mutating func place(_ position: Int, hash: UInt64) {
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: hash) & mask
        while slots[i] != 0 { i = (i + 1) & mask }
        slots[i] = (hash & Self.tagBits) | UInt64(position + 1)
    }
}
