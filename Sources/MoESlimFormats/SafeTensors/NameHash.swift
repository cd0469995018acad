/// SipHash-1-3 of a tensor name's bytes under a key drawn at random once per process: names come from strangers,
/// and with an unkeyed hash a header of colliding names would turn every lookup into a scan (HashDoS). Swift's
/// Hasher is the same function, but hashing the bytes in place, without a String, costs a fraction as much.
package enum NameHash {
    private static let key: (UInt64, UInt64) = {
        var random = SystemRandomNumberGenerator()
        return (random.next(), random.next())
    }()

    package static func of(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var state = SipState(key: key)
        let count = bytes.count
        var last = UInt64(truncatingIfNeeded: count) << 56
        if let base = bytes.baseAddress {
            var offset = 0
            while offset + 8 <= count {
                state.compress(base.loadUnaligned(fromByteOffset: offset, as: UInt64.self).littleEndian)
                offset += 8
            }
            var shift: UInt64 = 0
            while offset < count {
                last |= UInt64(base.load(fromByteOffset: offset, as: UInt8.self)) << shift
                shift += 8
                offset += 1
            }
        }
        state.compress(last)
        return state.finalize()
    }

    package static func of(_ name: String) -> UInt64 {
        var name = name
        return name.withUTF8 { of(UnsafeRawBufferPointer($0)) }
    }
}

/// The four SipHash lanes; one round per message word and three to finish (the "1-3" variant).
private struct SipState {
    var v0: UInt64, v1: UInt64, v2: UInt64, v3: UInt64

    init(key: (UInt64, UInt64)) {
        v0 = 0x736f6d6570736575 ^ key.0
        v1 = 0x646f72616e646f6d ^ key.1
        v2 = 0x6c7967656e657261 ^ key.0
        v3 = 0x7465646279746573 ^ key.1
    }

    mutating func round() {
        v0 &+= v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32)
        v2 &+= v3; v3 = rotl(v3, 16); v3 ^= v2
        v0 &+= v3; v3 = rotl(v3, 21); v3 ^= v0
        v2 &+= v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32)
    }

    mutating func compress(_ m: UInt64) {
        v3 ^= m
        round()
        v0 ^= m
    }

    mutating func finalize() -> UInt64 {
        v2 ^= 0xff
        round(); round(); round()
        return v0 ^ v1 ^ v2 ^ v3
    }

    private func rotl(_ x: UInt64, _ n: UInt64) -> UInt64 { (x << n) | (x >> (64 - n)) }
}
