/// Splits a ByteStream into lines. A line ends at "\n"; a "\r" just before it belongs to the terminator, so
/// files written on Windows give the same records. A line longer than `limit` bytes is not kept: its bytes are
/// dropped as they stream past and the reader says `.overLimit`, so one endless line (a small .zst can expand
/// to gigabytes without a newline) costs no more memory than a line at the limit.
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
    private(set) var lineNumber = 0

    var path: String { stream.path }
    var consumed: Int { stream.consumed }

    init(path: String, kind: InputKind, limit: Int) throws(MoESlimError) {
        stream = try ByteStream(path: path, kind: kind)
        self.limit = limit
    }

    func next() throws(MoESlimError) -> Line? {
        while true {
            if let newline = buffer[max(start, scanned)...].firstIndex(of: 0x0A) {
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
            // One byte of slack for a "\r" that may turn out to be part of the line ending.
            if buffer.count - start > limit + 1 {
                try skipRestOfLine()
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
        buffer.removeAll(keepingCapacity: true)
        start = 0
        scanned = 0
        while try stream.read(appendingTo: &buffer) {
            if let newline = buffer.firstIndex(of: 0x0A) {
                buffer.removeFirst(newline + 1)
                return
            }
            buffer.removeAll(keepingCapacity: true)
        }
        finished = true
    }
}
