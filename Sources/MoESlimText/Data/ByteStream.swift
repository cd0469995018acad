import CZstd
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MoESlimSupport

/// Sequential reads from a file, decompressing `.zst` files through libzstd's streaming API so a corpus of any
/// size is read in constant memory. The file is opened by InputFile (a regular file, never a FIFO), and a zstd
/// frame may not ask for a window over InputLimits.zstdWindowLog.
final class ByteStream {
    let path: String
    /// The size of the file as opened (compressed size for .zst).
    let fileSize: Int
    private let file: UnsafeMutablePointer<FILE>
    private let zstd: OpaquePointer?
    private var input: [UInt8]
    private var inputPos = 0
    private var inputCount = 0
    private var lastZstdResult = 0
    private let code: MoESlimError.Code

    static let chunkSize = 1 << 20
    /// Room for one chunk, appended as an Array: a memcpy, where appending repeatElement goes byte by byte in
    /// debug builds (a hundred times slower, which the tests reading a zstd bomb would feel).
    private static let zeros = [UInt8](repeating: 0, count: chunkSize)

    init(path: String, kind: InputKind) throws(MoESlimError) {
        let (fd, fileSize) = try InputFile.open(path, as: kind)
        guard let file = fdopen(fd, "rb") else {
            let failure = POSIXFailure("fdopen")
            close(fd)
            throw MoESlimError(.io, "cannot open", path: path, cause: failure)
        }
        self.path = path
        self.fileSize = fileSize
        self.file = file
        self.code = kind.code
        self.input = [UInt8](repeating: 0, count: Self.chunkSize)
        if path.hasSuffix(".zst") {
            guard let stream = ZSTD_createDStream() else {
                fclose(file)
                throw MoESlimError(.io, "cannot create a zstd stream", path: path)
            }
            ZSTD_initDStream(stream)
            ZSTD_DCtx_setParameter(stream, ZSTD_d_windowLogMax, InputLimits.zstdWindowLog)
            zstd = stream
        } else {
            zstd = nil
        }
    }

    /// Bytes of the file read so far (compressed bytes for .zst), for progress estimates.
    var consumed: Int { max(0, Int(ftell(file))) }

    deinit {
        fclose(file)
        if let zstd { ZSTD_freeDStream(zstd) }
    }

    /// Appends up to one chunk to `buffer`; returns false at the end of the data.
    func read(appendingTo buffer: inout [UInt8]) throws(MoESlimError) -> Bool {
        guard let zstd else {
            let start = buffer.count
            buffer.append(contentsOf: Self.zeros)
            let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress! + start, 1, Self.chunkSize, file) }
            buffer.removeLast(Self.chunkSize - n)
            if n == 0 && ferror(file) != 0 { throw MoESlimError(.io, "read failed", path: path, cause: POSIXFailure("fread")) }
            return n > 0
        }
        while true {
            if inputPos == inputCount {
                inputCount = input.withUnsafeMutableBytes { fread($0.baseAddress!, 1, Self.chunkSize, file) }
                inputPos = 0
                if inputCount == 0 {
                    if ferror(file) != 0 { throw MoESlimError(.io, "read failed", path: path, cause: POSIXFailure("fread")) }
                    if lastZstdResult != 0 { throw MoESlimError(code, "truncated zstd stream", path: path) }
                    return false
                }
            }
            let start = buffer.count
            buffer.append(contentsOf: Self.zeros)
            var produced = 0
            let result = input.withUnsafeBytes { inBytes in
                buffer.withUnsafeMutableBytes { outBytes in
                    var inBuffer = ZSTD_inBuffer(src: inBytes.baseAddress, size: inputCount, pos: inputPos)
                    var outBuffer = ZSTD_outBuffer(dst: outBytes.baseAddress! + start, size: Self.chunkSize, pos: 0)
                    let r = ZSTD_decompressStream(zstd, &outBuffer, &inBuffer)
                    inputPos = inBuffer.pos
                    produced = outBuffer.pos
                    return r
                }
            }
            buffer.removeLast(Self.chunkSize - produced)
            if ZSTD_isError(result) != 0 { throw zstdFailure(result) }
            lastZstdResult = result
            if produced > 0 { return true }
        }
    }

    private func zstdFailure(_ result: Int) -> MoESlimError {
        if ZSTD_getErrorCode(result) == ZSTD_error_frameParameter_windowTooLarge {
            let limit = ByteSize(1 << Int(InputLimits.zstdWindowLog))
            return MoESlimError(code, "zstd frame asks for a window larger than \(limit), the limit", path: path)
        }
        return MoESlimError(code, "zstd: \(String(cString: ZSTD_getErrorName(result)))", path: path)
    }

    /// The whole content, decompressed if the name ends in `.zst`; nil once it passes `limit` bytes, so a small
    /// file that expands without end is stopped one chunk past the limit. A plain file's room is reserved at
    /// once, so a 30 MiB tokenizer does not pass through a 64 MiB array on its way in.
    static func readAll(_ path: String, kind: InputKind, limit: Int) throws(MoESlimError) -> [UInt8]? {
        let stream = try ByteStream(path: path, kind: kind)
        var bytes: [UInt8] = []
        if stream.zstd == nil { bytes.reserveCapacity(min(stream.fileSize, limit) + chunkSize) }
        while try stream.read(appendingTo: &bytes) {
            if bytes.count > limit { return nil }
        }
        return bytes
    }
}
