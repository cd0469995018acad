#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MoESlimSupport

/// A safetensors file mapped read-only. The kernel pages tensor data in on demand and can drop it again, so
/// opening a 100 GB shard costs only its header; the file descriptor stays open for copy_file_range.
public final class SafeTensorsFile: @unchecked Sendable {
    public let path: String
    public let header: SafeTensorsHeader
    public let fileSize: Int
    public let descriptor: Int32
    /// The whole file; nil when it is empty. The header's table holds it too, its names being ranges of it.
    private let region: ByteRegion?

    public init(path: String) throws(MoESlimError) {
        self.path = path
        let (fd, size) = try InputFile.open(path, as: .shard)
        var region: ByteRegion?
        if size > 0 {
            guard let mapped = ByteRegion(mapping: fd, size: size, path: path) else {
                let failure = POSIXFailure("mmap")
                close(fd)
                throw MoESlimError(.io, "cannot map", path: path, cause: failure)
            }
            region = mapped
        }
        do {
            self.header = try SafeTensorsHeader.parse(region: region, path: path)
        } catch {
            close(fd)
            throw error
        }
        self.fileSize = size
        self.descriptor = fd
        self.region = region
    }

    deinit {
        close(descriptor)
    }

    /// The bytes of one tensor, straight from the mapping. They may be unaligned for their dtype: read them with
    /// loadUnaligned or copy them, never bind them to a typed pointer.
    public func bytes(of tensor: TensorInfo) -> UnsafeRawBufferPointer {
        guard let base = region?.bytes.baseAddress, tensor.byteCount > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + header.dataStart + tensor.begin, count: tensor.byteCount)
    }

    /// Every byte of the file, indexed by file offset.
    public var wholeFile: UnsafeRawBufferPointer { region?.bytes ?? UnsafeRawBufferPointer(start: nil, count: 0) }

    /// Absolute file offset of a tensor's first byte, for copying ranges kernel-side.
    public func fileOffset(of tensor: TensorInfo) -> Int { header.dataStart + tensor.begin }

    /// Tells the kernel the pages of a tensor already used can go, so streaming a large model does not fill
    /// the page cache with data we will not read again.
    public func release(_ tensor: TensorInfo) { advise(tensor, MADV_DONTNEED) }

    /// Releases a tensor's pages and drops them from the page cache too, for a model larger than the cache:
    /// left to the kernel, pages read once and done with would push out the next layer, read ahead but not yet
    /// touched. Unmapped first, since the page cache keeps pages that are still mapped.
    public func evict(_ tensor: TensorInfo) {
        advise(tensor, MADV_DONTNEED)
        guard tensor.byteCount > 0 else { return }
        _ = posix_fadvise(descriptor, off_t(header.dataStart + tensor.begin), off_t(tensor.byteCount), POSIX_FADV_DONTNEED)
    }

    /// Starts reading a tensor from disk in the background, so it arrives before it is touched instead of
    /// page fault by page fault.
    public func willNeed(_ tensor: TensorInfo) { advise(tensor, MADV_WILLNEED) }

    private func advise(_ tensor: TensorInfo, _ advice: Int32) {
        guard let base = region?.bytes.baseAddress, tensor.byteCount > 0 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (header.dataStart + tensor.begin) / page * page
        let end = header.dataStart + tensor.end
        madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, advice)
    }
}
