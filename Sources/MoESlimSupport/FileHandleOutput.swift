#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Unbuffered writes to the standard streams, for progress lines and errors that must appear even when
/// stdout is a pipe.
public enum FileHandleOutput {
    public static func stderr(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }

    public static var stderrIsTerminal: Bool { isatty(2) != 0 }
}
