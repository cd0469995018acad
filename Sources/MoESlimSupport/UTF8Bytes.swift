#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Names compared as Python compares them, by their UTF-8 bytes (code points), with memcmp: Swift's String
/// comparison also treats canonically equivalent spellings as equal, generic `elementsEqual` goes a byte at a
/// time, and both showed in the profile of a 90,000-tensor checkpoint.
extension UnsafeRawBufferPointer {
    /// memcmp's sign, a shorter run first when one is a prefix of the other.
    package func compareBytes(_ other: UnsafeRawBufferPointer) -> Int {
        let common = Swift.min(count, other.count)
        let order = common == 0 ? 0 : Int(memcmp(baseAddress!, other.baseAddress!, common))
        return order != 0 ? order : count - other.count
    }

    /// Eight bytes at a time, inline: most names and keys are short, and a call to memcmp for each cost more
    /// than the comparison.
    package func sameBytes(_ other: UnsafeRawBufferPointer) -> Bool {
        guard count == other.count else { return false }
        guard let a = baseAddress, let b = other.baseAddress else { return true }
        var i = 0
        while i + 8 <= count {
            guard a.loadUnaligned(fromByteOffset: i, as: UInt64.self) == b.loadUnaligned(fromByteOffset: i, as: UInt64.self) else { return false }
            i += 8
        }
        while i < count {
            guard a.load(fromByteOffset: i, as: UInt8.self) == b.load(fromByteOffset: i, as: UInt8.self) else { return false }
            i += 1
        }
        return true
    }

    /// Whether these bytes are exactly the literal's.
    package func spells(_ literal: StaticString) -> Bool {
        sameBytes(UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }
}

extension String {
    /// Byte order (the order of Python's `sorted`).
    public func utf8Precedes(_ other: String) -> Bool {
        var (a, b) = (self, other)
        return a.withUTF8 { x in b.withUTF8 { y in UnsafeRawBufferPointer(x).compareBytes(UnsafeRawBufferPointer(y)) < 0 } }
    }
}
