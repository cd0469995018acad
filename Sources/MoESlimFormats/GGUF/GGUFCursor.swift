import MoESlimSupport

/// Reads little-endian values front to back from a mapped file, each read checked against the end of the
/// file first, so a count or length from a hostile header can never read past the mapping.
struct GGUFCursor {
    let bytes: UnsafeRawBufferPointer
    var position: Int
    let path: String

    init(_ bytes: UnsafeRawBufferPointer, path: String, at position: Int = 0) {
        self.bytes = bytes
        self.position = position
        self.path = path
    }

    var remaining: Int { bytes.count - position }

    func fail(_ message: String, tensor: String? = nil) -> MoESlimError {
        MoESlimError(.invalidHeader, message, path: path, tensor: tensor)
    }

    /// Refuses a read of `count` bytes that would pass the end of the file.
    func need(_ count: Int, _ what: @autoclosure () -> String) throws(MoESlimError) {
        guard count >= 0, count <= remaining else {
            throw fail("\(what()) at byte \(position) needs \(count) bytes but the file ends at byte \(bytes.count)")
        }
    }

    mutating func u8(_ what: @autoclosure () -> String) throws(MoESlimError) -> UInt8 {
        try need(1, what())
        defer { position += 1 }
        return bytes[position]
    }

    mutating func u16(_ what: @autoclosure () -> String) throws(MoESlimError) -> UInt16 {
        try need(2, what())
        defer { position += 2 }
        return UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt16.self))
    }

    mutating func u32(_ what: @autoclosure () -> String) throws(MoESlimError) -> UInt32 {
        try need(4, what())
        defer { position += 4 }
        return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    mutating func u64(_ what: @autoclosure () -> String) throws(MoESlimError) -> UInt64 {
        try need(8, what())
        defer { position += 8 }
        return UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt64.self))
    }

    /// A GGUF string: a uint64 length, then that many bytes, within the file.
    mutating func string(_ what: @autoclosure () -> String) throws(MoESlimError) -> UnsafeRawBufferPointer {
        let start = position
        let length = try u64("\(what()) length")
        guard length <= UInt64(remaining) else {
            position = start
            throw fail("\(what()) at byte \(start) is \(length) bytes long, past the end of the file (byte \(bytes.count))")
        }
        defer { position += Int(length) }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + Int(length))])
    }
}
