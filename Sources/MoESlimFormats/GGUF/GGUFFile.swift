#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MoESlimSupport

/// A GGUF file mapped read-only, its header checked (GGUFHeader). Tensor data stays on disk until it is
/// copied, so opening a 200 GB model costs its header; the descriptor stays open for copy_file_range.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let header: GGUFHeader
    public let fileSize: Int
    public let descriptor: Int32
    private let region: ByteRegion

    public init(path: String) throws(MoESlimError) {
        self.path = path
        let (fd, size) = try InputFile.open(path, as: .shard)
        guard size > 0 else {
            close(fd)
            throw MoESlimError(.invalidHeader, "file is 0 bytes, too short for the \(GGUFHeader.fixedBytes)-byte GGUF header", path: path)
        }
        guard let mapped = ByteRegion(mapping: fd, size: size, path: path) else {
            let failure = POSIXFailure("mmap")
            close(fd)
            throw MoESlimError(.io, "cannot map", path: path, cause: failure)
        }
        do {
            header = try GGUFHeader.parse(mapped.bytes, path: path)
        } catch {
            close(fd)
            throw error
        }
        fileSize = size
        descriptor = fd
        region = mapped
    }

    deinit { close(descriptor) }

    public var wholeFile: UnsafeRawBufferPointer { region.bytes }

    /// Absolute file offset of a tensor's first byte.
    public func fileOffset(of tensor: GGUFTensorInfo) -> Int { header.dataStart + tensor.offset }

    /// A tensor's bytes straight from the mapping; read them unaligned or copy them.
    public func bytes(of tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: region.bytes[fileOffset(of: tensor)..<(fileOffset(of: tensor) + tensor.byteCount)])
    }

    /// Drops the pages of a tensor's bytes `range` from this process's memory once they have been read (the
    /// page cache keeps them, and the mapping is read-only, so a page shared with a neighbour is only read
    /// again): reading a model slab by slab does not make peak memory grow with it.
    package func release(_ tensor: GGUFTensorInfo, bytes range: Range<Int>) {
        guard let base = region.bytes.baseAddress, !range.isEmpty, range.upperBound <= tensor.byteCount else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (fileOffset(of: tensor) + range.lowerBound) / page * page
        madvise(UnsafeMutableRawPointer(mutating: base + start), fileOffset(of: tensor) + range.upperBound - start, MADV_DONTNEED)
    }

    /// The elements of an array value, decoded: integers and floats as Double, nil for other element types.
    public func numbers(_ array: GGUFArray) -> [Double]? {
        guard let size = array.elementType.fixedSize else { return nil }
        var out: [Double] = []
        out.reserveCapacity(array.count)
        for i in 0..<array.count {
            let at = array.bytes.lowerBound + i * size
            let b = region.bytes
            switch array.elementType {
            case .uint8, .bool: out.append(Double(b[at]))
            case .int8: out.append(Double(Int8(bitPattern: b[at])))
            case .uint16: out.append(Double(UInt16(littleEndian: b.loadUnaligned(fromByteOffset: at, as: UInt16.self))))
            case .int16: out.append(Double(Int16(littleEndian: b.loadUnaligned(fromByteOffset: at, as: Int16.self))))
            case .uint32: out.append(Double(UInt32(littleEndian: b.loadUnaligned(fromByteOffset: at, as: UInt32.self))))
            case .int32: out.append(Double(Int32(littleEndian: b.loadUnaligned(fromByteOffset: at, as: Int32.self))))
            case .uint64: out.append(Double(UInt64(littleEndian: b.loadUnaligned(fromByteOffset: at, as: UInt64.self))))
            case .int64: out.append(Double(Int64(littleEndian: b.loadUnaligned(fromByteOffset: at, as: Int64.self))))
            case .float32: out.append(Double(Float(bitPattern: UInt32(littleEndian: b.loadUnaligned(fromByteOffset: at, as: UInt32.self)))))
            case .float64: out.append(Double(bitPattern: UInt64(littleEndian: b.loadUnaligned(fromByteOffset: at, as: UInt64.self))))
            case .string, .array: return nil
            }
        }
        return out
    }

    /// The elements of an array of strings (imatrix.datasets), nil for other element types.
    public func strings(_ array: GGUFArray) -> [String]? {
        guard array.elementType == .string else { return nil }
        var c = GGUFCursor(region.bytes, path: path, at: array.bytes.lowerBound)
        var out: [String] = []
        for _ in 0..<array.count {
            guard let s = try? c.string("string") else { return nil }
            out.append(String(decoding: s, as: UTF8.self))
        }
        return out
    }
}
