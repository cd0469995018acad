/// Text from files (names, keys, values) made safe to print on a terminal. A name is chosen by whoever made
/// the file: an escape sequence in it can rewrite the screen or hide the rest of the message, a newline can
/// forge another line of output, and a bidirectional override can make one name read as another. Each such
/// character is written as `\u{XX}`; everything else, backslashes included, is printed as it is. Bytes that
/// are not UTF-8 never get this far: JSON strings are validated on parsing, and names decoded from raw bytes
/// show U+FFFD in their place.
public enum EscapedText {
    public static func of(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if needsEscape(scalar) {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// C0 controls, DEL, C1 controls, the line and paragraph separators, and the bidirectional marks,
    /// embeddings, overrides and isolates.
    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x061C, 0x200E, 0x200F, 0x2028...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }
}
