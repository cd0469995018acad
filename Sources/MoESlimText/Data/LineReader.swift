#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MoESlimSupport

/// Splits a ByteStream into lines. A line ends at "\n"; a "\r" just before it belongs to the terminator, so
/// files written on Windows give the same records. A line longer than `limit` bytes is not kept: the reader says
/// `.overLimit` as soon as the line passes the limit and, if asked for the next line, drops the rest as it
/// streams past, so one endless line (a small .zst can expand to gigabytes without a newline) costs no more
/// memory than a line at the limit, and no time at all when the caller stops there.
final class LineReader {
    enum Line {
        case bytes(ArraySlice<UInt8>)
        case overLimit
    }

    private let stream: ByteStream
    private let limit: Int
    private var buffer: [UInt8] = []
    private var start = 0
    private var scanned = 0
    private var finished = false
    /// The line at `start` was reported over the limit; its rest is still to be dropped.
    private var skipping = false
    private(set) var lineNumber = 0

    var path: String { stream.path }
    var consumed: Int { stream.consumed }

    init(path: String, kind: InputKind, limit: Int) throws(MoESlimError) {
        stream = try ByteStream(path: path, kind: kind)
        self.limit = limit
    }

    func next() throws(MoESlimError) -> Line? {
        if skipping { try skipRestOfLine() }
        while true {
            if let newline = firstNewline(from: max(start, scanned)) {
                var end = newline
                if end > start && buffer[end - 1] == 0x0D { end -= 1 }
                let line = buffer[start..<end]
                start = newline + 1
                scanned = start
                lineNumber += 1
                return line.count > limit ? .overLimit : .bytes(line)
            }
            if finished {
                guard start < buffer.count else { return nil }
                var end = buffer.count
                if buffer[end - 1] == 0x0D { end -= 1 }
                let line = buffer[start..<end]
                start = buffer.count
                lineNumber += 1
                return line.count > limit ? .overLimit : .bytes(line)
            }
            // One byte of slack for a "\r" that may turn out to be part of the line ending (subtracted, not
            // added to the limit, which may be Int.max).
            if buffer.count - start - 1 > limit {
                skipping = true
                lineNumber += 1
                return .overLimit
            }
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            scanned = buffer.count
            finished = !(try stream.read(appendingTo: &buffer))
        }
    }

    /// Drops the current line chunk by chunk up to its "\n" (or the end of the data), keeping what follows.
    private func skipRestOfLine() throws(MoESlimError) {
        skipping = false
        buffer.removeAll(keepingCapacity: true)
        (start, scanned) = (0, 0)
        while try stream.read(appendingTo: &buffer) {
            if let newline = firstNewline(from: 0) {
                buffer.removeFirst(newline + 1)
                return
            }
            buffer.removeAll(keepingCapacity: true)
        }
        finished = true
    }

    /// memchr, which stays fast in debug builds too, where the tests read megabytes.
    private func firstNewline(from offset: Int) -> Int? {
        guard offset < buffer.count else { return nil }
        return buffer.withUnsafeBytes { bytes in
            memchr(bytes.baseAddress! + offset, 0x0A, bytes.count - offset).map { $0 - UnsafeMutableRawPointer(mutating: bytes.baseAddress!) }
        }
    }
}
