#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one way moe-slim opens an input file. Only regular files pass: a symlink to /dev/zero resolves to a
/// character device and is refused before a byte is read. Anything that is plainly not a regular file is refused
/// without being opened, since opening some devices has effects of its own (a watchdog starts, a tape rewinds).
/// The open is non-blocking, so a FIFO swapped in meanwhile is refused instead of hanging open(2) until somebody
/// writes to it, and the type and size that count come from fstat on the opened descriptor, so the file checked
/// is the file read. A file read whole must fit its kind's limit (InputLimits), and is read only up to it, even
/// if it grows meanwhile.
package enum InputFile {
    /// A read-only descriptor of a regular file within its kind's size limit, and the size; the caller closes it.
    package static func open(_ path: String, as kind: InputKind) throws(MoESlimError) -> (descriptor: Int32, size: Int) {
        var st = stat()
        if stat(path, &st) == 0, let type = nonRegularType(st.st_mode) { throw notRegular(path, type, kind) }
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw MoESlimError(.io, "cannot open", path: path, cause: POSIXFailure("open")) }
        guard fstat(fd, &st) == 0 else {
            let failure = POSIXFailure("fstat")
            close(fd)
            throw MoESlimError(.io, "cannot stat", path: path, cause: failure)
        }
        if let type = nonRegularType(st.st_mode) {
            close(fd)
            throw notRegular(path, type, kind)
        }
        let size = Int(st.st_size)
        if let limit = kind.sizeLimit, size > limit {
            close(fd)
            throw MoESlimError(kind.code, "is \(size) bytes, over the \(ByteSize(limit)) limit for a \(kind.noun)", path: path)
        }
        return (fd, size)
    }

    /// The whole file, for kinds with a size limit: never more bytes than the limit, even from a file that grows
    /// (or a procfs file that says it is empty) while it is read. Plain read(2) rather than
    /// FileManager.contents, which leaks a buffer on empty files (found by the fuzzer under LeakSanitizer) and
    /// cannot say why a read failed.
    package static func read(_ path: String, as kind: InputKind) throws(MoESlimError) -> [UInt8] {
        let limit = kind.sizeLimit ?? Int.max
        let (fd, size) = try open(path, as: kind)
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: min(size, limit) + 1)
        var count = 0
        while true {
            if count == bytes.count {
                guard bytes.count <= limit else {
                    throw MoESlimError(kind.code, "grew past the \(ByteSize(limit)) limit for a \(kind.noun) while it was read", path: path)
                }
                bytes.append(contentsOf: repeatElement(0, count: min(bytes.count, limit + 1 - bytes.count)))
            }
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + count, $0.count - count) }
            if n == 0 { break }
            guard n > 0 else {
                if errno == EINTR { continue }
                throw MoESlimError(.io, "cannot read", path: path, cause: POSIXFailure("read"))
            }
            count += n
        }
        bytes.removeLast(bytes.count - count)
        return bytes
    }

    /// The whole file parsed by the strict JSON parser, errors naming the file.
    package static func readJSON(_ path: String, as kind: InputKind) throws(MoESlimError) -> JSONValue {
        let bytes = try read(path, as: kind)
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw MoESlimError(kind.code, "\(error)", path: path)
        }
    }

    /// "a FIFO" and the like for anything but a regular file; nil for a regular file.
    private static func nonRegularType(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFIFO: return "a FIFO"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFDIR: return "a directory"
        case S_IFSOCK: return "a socket"
        default: return "an unknown kind of file"
        }
    }

    private static func notRegular(_ path: String, _ type: String, _ kind: InputKind) -> MoESlimError {
        MoESlimError(kind.code, "is \(type), not a regular file", path: path)
    }
}
