/// Splits a ByteStream into lines. A line ends at "\n"; a "\r" just before it belongs to the terminator, so
/// files written on Windows give the same records.
final class LineReader {
    private let stream: ByteStream
    private var buffer: [UInt8] = []
    private var start = 0
    private var scanned = 0
    private var finished = false
    private(set) var lineNumber = 0

    var path: String { stream.path }
    var consumed: Int { stream.consumed }

    init(path: String, code: MoESlimError.Code) throws(MoESlimError) {
        stream = try ByteStream(path: path, code: code)
    }

    func next() throws(MoESlimError) -> ArraySlice<UInt8>? {
        while true {
            if let newline = buffer[max(start, scanned)...].firstIndex(of: 0x0A) {
                var end = newline
                if end > start && buffer[end - 1] == 0x0D { end -= 1 }
                let line = buffer[start..<end]
                start = newline + 1
                scanned = start
                lineNumber += 1
                return line
            }
            if finished {
                guard start < buffer.count else { return nil }
                var end = buffer.count
                if buffer[end - 1] == 0x0D { end -= 1 }
                let line = buffer[start..<end]
                start = buffer.count
                lineNumber += 1
                return line
            }
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            scanned = buffer.count
            finished = !(try stream.read(appendingTo: &buffer))
        }
    }
}
