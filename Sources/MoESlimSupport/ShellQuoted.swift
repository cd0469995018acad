/// A path as one shell word, for the commands error messages suggest: single quotes, a quote inside written
/// '\'' (looked at as bytes, as every name is).
package enum ShellQuoted {
    package static func of(_ text: String) -> String {
        let quote = UInt8(ascii: "'")
        let inner = text.utf8.flatMap { $0 == quote ? Array("'\\''".utf8) : [$0] }
        return "'" + String(decoding: inner, as: UTF8.self) + "'"
    }
}
