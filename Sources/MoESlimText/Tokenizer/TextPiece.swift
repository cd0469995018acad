/// One split of the input as it moves through the pipeline. Bytes are UTF-8; a piece matched as an added token
/// carries its id and is left alone by normalizers, pre-tokenizers and the model, as in `tokenizers`.
struct TextPiece {
    var bytes: [UInt8]
    var token: Int32?
    /// Whether the piece starts at offset 0 of the original text; Metaspace's `prepend_scheme: first` asks this.
    var atOrigin: Bool
}

/// Scalar decoding of a piece, with the byte offset of every scalar so regex matches map back to bytes.
struct DecodedScalars {
    var scalars: [UInt32] = []
    var offsets: [Int] = []

    init(_ bytes: [UInt8]) {
        scalars.reserveCapacity(bytes.count)
        offsets.reserveCapacity(bytes.count + 1)
        var i = 0
        while i < bytes.count {
            let b = UInt32(bytes[i])
            offsets.append(i)
            if b < 0x80 {
                scalars.append(b)
                i += 1
            } else if b < 0xE0 {
                scalars.append((b & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F))
                i += 2
            } else if b < 0xF0 {
                scalars.append((b & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F))
                i += 3
            } else {
                scalars.append(
                    (b & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12 | UInt32(bytes[i + 2] & 0x3F) << 6
                        | UInt32(bytes[i + 3] & 0x3F))
                i += 4
            }
        }
        offsets.append(bytes.count)
    }
}

enum UTF8Bytes {
    static func append(_ v: UInt32, to out: inout [UInt8]) {
        if v < 0x80 {
            out.append(UInt8(v))
        } else if v < 0x800 {
            out.append(UInt8(0xC0 | v >> 6))
            out.append(UInt8(0x80 | v & 0x3F))
        } else if v < 0x10000 {
            out.append(UInt8(0xE0 | v >> 12))
            out.append(UInt8(0x80 | (v >> 6) & 0x3F))
            out.append(UInt8(0x80 | v & 0x3F))
        } else {
            out.append(UInt8(0xF0 | v >> 18))
            out.append(UInt8(0x80 | (v >> 12) & 0x3F))
            out.append(UInt8(0x80 | (v >> 6) & 0x3F))
            out.append(UInt8(0x80 | v & 0x3F))
        }
    }

    /// Length of the UTF-8 sequence that starts with `lead`.
    @inline(__always)
    static func length(lead: UInt8) -> Int {
        lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
    }
}
