#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CShims
import MoESlimSupport

/// Writes one safetensors file front to back: header first (its offsets are known from the shapes), then each
/// tensor's bytes. Unchanged byte ranges go kernel-side with copy_file_range; everything else passes through
/// a fixed-size buffer, so memory stays flat whatever the file size.
struct SafeTensorsStreamWriter {
    static let bufferSize = 8 << 20

    let path: String
    private let fd: Int32
    private var buffer: UnsafeMutableRawBufferPointer
    private var buffered = 0
    private var kernelCopy = true

    /// Creates `path`, which must not exist yet.
    init(path: String) throws(MoESlimError) {
        try self.init(path: path, flags: O_CREAT | O_EXCL)
    }

    /// Fills a temporary file, created empty (and locked) by `Temporary`.
    init(temporary: Temporary) throws(MoESlimError) {
        try self.init(path: temporary.path, flags: O_TRUNC | O_NOFOLLOW)
    }

    private init(path: String, flags: Int32) throws(MoESlimError) {
        self.path = path
        fd = open(path, O_WRONLY | O_CLOEXEC | flags, 0o644)
        guard fd >= 0 else { throw MoESlimError(.io, "cannot create", path: path, cause: POSIXFailure("open")) }
        buffer = .allocate(byteCount: Self.bufferSize, alignment: 64)
    }

    /// Encodes the header exactly as safetensors does: metadata first, then tensors in file order, padded
    /// with spaces so the data buffer starts on an 8-byte boundary.
    static func header(for tensors: [OutputTensor], metadata: [(key: String, value: String)]) -> [UInt8] {
        var json = "{"
        var first = true
        if !metadata.isEmpty {
            json += "\"__metadata__\":{"
            json += metadata.map { JSONValue.quote($0.key) + ":" + JSONValue.quote($0.value) }.joined(separator: ",")
            json += "}"
            first = false
        }
        var offset = 0
        for t in tensors {
            let end = offset + t.byteCount
            if !first { json += "," }
            first = false
            json += JSONValue.quote(t.name) + ":{\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":["
            json += t.shape.map(String.init).joined(separator: ",") + "],\"data_offsets\":[\(offset),\(end)]}"
            offset = end
        }
        json += "}"
        var bytes = Array(json.utf8)
        while (8 + bytes.count) % 8 != 0 { bytes.append(0x20) }
        var length = UInt64(bytes.count).littleEndian
        return withUnsafeBytes(of: &length) { Array($0) } + bytes
    }

    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(MoESlimError) {
        var rest = bytes
        while !rest.isEmpty {
            let n = min(rest.count, buffer.count - buffered)
            UnsafeMutableRawBufferPointer(rebasing: buffer[buffered..<(buffered + n)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: rest[..<n]))
            buffered += n
            rest = UnsafeRawBufferPointer(rebasing: rest[n...])
            if buffered == buffer.count { try flush() }
        }
    }

    mutating func write(_ bytes: [UInt8]) throws(MoESlimError) {
        do {
            try bytes.withUnsafeBytes { raw in try self.write(raw) }
        } catch let e as MoESlimError {
            throw e
        } catch {
            throw MoESlimError(.io, "\(error)", path: path)
        }
    }

    mutating func flush() throws(MoESlimError) {
        var done = 0
        while done < buffered {
            let n = Glibc.write(fd, buffer.baseAddress! + done, buffered - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw MoESlimError(.io, "write failed", path: path, cause: POSIXFailure("write"))
            }
            done += n
        }
        buffered = 0
    }

    /// Copies a byte range of another file. Falls back to reading through the mapping when the kernel cannot
    /// copy between these two files (other file systems, old kernels).
    mutating func copy(from file: SafeTensorsFile, range: Range<Int>) throws(MoESlimError) {
        if kernelCopy {
            try flush()
            var inOffset = Int64(range.lowerBound)
            let end = Int64(range.upperBound)
            while inOffset < end {
                let n = moeslim_copy_file_range(file.descriptor, &inOffset, fd, nil, Int(min(end - inOffset, 1 << 30)))
                if n > 0 { continue }
                if n == 0 {
                    throw MoESlimError(.io, "source ended early while copying", path: file.path)
                }
                if errno == EINTR { continue }
                if errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP || errno == EBADF {
                    kernelCopy = false
                    try copyThroughMemory(from: file, range: Int(inOffset)..<range.upperBound)
                    return
                }
                throw MoESlimError(.io, "copy failed", path: path, cause: POSIXFailure("copy_file_range"))
            }
        } else {
            try copyThroughMemory(from: file, range: range)
        }
    }

    private mutating func copyThroughMemory(from file: SafeTensorsFile, range: Range<Int>) throws(MoESlimError) {
        try write(UnsafeRawBufferPointer(rebasing: file.wholeFile[range]))
    }

    mutating func finish() throws(MoESlimError) {
        try flush()
        guard fsync(fd) == 0 else { throw MoESlimError(.io, "fsync failed", path: path, cause: POSIXFailure("fsync")) }
        guard close(fd) == 0 else { throw MoESlimError(.io, "close failed", path: path, cause: POSIXFailure("close")) }
        buffer.deallocate()
    }

    mutating func abandon() {
        close(fd)
        buffer.deallocate()
    }

    var descriptor: Int32 { fd }
}
