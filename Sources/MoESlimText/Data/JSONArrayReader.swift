import MoESlimSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits a JSON array file (`[{"text": ...}, {"text": ...}]`, as many data sets are published) into its
/// elements, each then parsed as a JSON Lines record would be. Only the array's structure is scanned here
/// (strings, escapes, nesting depth); the element itself is parsed by json-c. An element longer than `limit`
/// bytes is reported `.overLimit` at once and its rest dropped as it streams past, as LineReader drops a long
/// line, so memory stays bounded by the limit whatever the file holds. `lineNumber` is the line the element
/// starts on, so errors point into the file.
final class JSONArrayReader: RecordSource {
    private let stream: ByteStream
    private let limit: Int
    private var buffer: [UInt8]
    private var position = 0
    private var finished = false
    private var opened = false
    private var closed = false
    /// Newlines before `position`, plus one.
    private var line = 1
    private(set) var lineNumber = 0

    var path: String { stream.path }
    var consumed: Int { stream.consumed }

    /// `buffered` is what was read from `stream` already (to look at the content).
    init(stream: ByteStream, buffered: [UInt8], limit: Int) {
        self.stream = stream
        self.buffer = buffered
        self.limit = limit
    }

    func next() throws(MoESlimError) -> LineReader.Line? {
        if closed {
            guard try skipWhitespace() == nil else { throw malformed("text after the closing ']' of the JSON array") }
            return nil
        }
        if !opened {
            if try skipWhitespace() == UInt8(ascii: "[") { position += 1 }
            opened = true
            if try skipWhitespace() == UInt8(ascii: "]") { return close() }
        }
        guard let first = try skipWhitespace() else { throw malformed("the JSON array is not closed") }
        if first == UInt8(ascii: "]") || first == UInt8(ascii: ",") { throw malformed("the JSON array has an empty element") }
        lineNumber = line
        let element = try scanElement()
        guard let separator = try skipWhitespace() else { throw malformed("the JSON array is not closed") }
        position += 1
        if separator == UInt8(ascii: "]") {
            closed = true
        } else if separator != UInt8(ascii: ",") {
            throw malformed("expected ',' or ']' after an element of the JSON array")
        }
        return element
    }

    private func close() -> LineReader.Line? {
        position += 1
        closed = true
        return nil
    }

    /// The element at `position`, up to the ',' or ']' at depth 0 outside strings; over the limit, its bytes are
    /// dropped as they are scanned.
    private func scanElement() throws(MoESlimError) -> LineReader.Line {
        var start = position
        var depth = 0
        var inString = false
        var escaped = false
        var dropped = false
        while true {
            if position == buffer.count {
                if position - start > limit || dropped {
                    dropped = true
                    buffer.removeAll(keepingCapacity: true)
                    (start, position) = (0, 0)
                } else if start > 0 {
                    buffer.removeFirst(start)
                    (position, start) = (position - start, 0)
                }
                guard try more() else { throw malformed("the JSON array is not closed") }
                continue
            }
            let byte = buffer[position]
            if byte == 0x0A { line += 1 }
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
            } else {
                let closing = byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]")
                if byte == UInt8(ascii: "\"") {
                    inString = true
                } else if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                    depth += 1
                } else if closing && depth > 0 {
                    depth -= 1
                } else if depth == 0 && (byte == UInt8(ascii: ",") || closing) {
                    var end = position
                    while end > start, Self.isWhitespace(buffer[end - 1]) { end -= 1 }
                    return dropped || end - start > limit ? .overLimit : .bytes(buffer[start..<end])
                }
            }
            position += 1
        }
    }

    /// The first byte that is not JSON whitespace, left at `position`; nil at the end of the data.
    private func skipWhitespace() throws(MoESlimError) -> UInt8? {
        while true {
            while position < buffer.count {
                let byte = buffer[position]
                if !Self.isWhitespace(byte) { return byte }
                if byte == 0x0A { line += 1 }
                position += 1
            }
            buffer.removeAll(keepingCapacity: true)
            position = 0
            guard try more() else { return nil }
        }
    }

    private func more() throws(MoESlimError) -> Bool {
        if finished { return false }
        finished = !(try stream.read(appendingTo: &buffer))
        return !finished
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    private func malformed(_ reason: String) -> MoESlimError {
        MoESlimError(.invalidData, "line \(line): \(reason)", path: stream.path)
    }
}
