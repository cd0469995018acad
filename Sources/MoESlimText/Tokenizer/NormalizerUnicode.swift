import Foundation

/// Unicode normalization forms, done by Foundation (ICU) since the standard library has no public API for them.
enum UnicodeNormalizationForm {
    case nfc, nfd, nfkc, nfkd

    func apply(_ bytes: [UInt8]) -> [UInt8] {
        if isStable(bytes) { return bytes }
        let text = String(decoding: bytes, as: UTF8.self)
        let normalized: String
        switch self {
        case .nfc: normalized = text.precomposedStringWithCanonicalMapping
        case .nfd: normalized = text.decomposedStringWithCanonicalMapping
        // Foundation's own NFKC leaves conjoining jamo that come out of compatibility decomposition
        // uncomposed (U+FFA7 U+FFC4); composing its NFKD is the definition and gives the reference's result.
        case .nfkc: normalized = text.decomposedStringWithCompatibilityMapping.precomposedStringWithCanonicalMapping
        case .nfkd: normalized = text.decomposedStringWithCompatibilityMapping
        }
        return Array(normalized.utf8)
    }

    /// ASCII is unchanged by every form, and scalars below U+0300 are unchanged by NFC; this skips the
    /// Foundation round trip for most of a typical corpus.
    private func isStable(_ bytes: [UInt8]) -> Bool {
        if self == .nfc {
            var i = 0
            while i < bytes.count {
                let b = bytes[i]
                if b < 0x80 { i += 1; continue }
                if b >= 0xCC { return false }
                i += 2
            }
            return true
        }
        return bytes.allSatisfy { $0 < 0x80 }
    }
}

/// `NormalizedString::lowercase`: Rust's `char::to_lowercase` applied scalar by scalar, so full mappings
/// (U+0130 becomes two scalars) but no final-sigma context rule.
enum UnicodeCaseMapping {
    static func lowercased(_ bytes: [UInt8]) -> [UInt8] {
        if bytes.allSatisfy({ $0 < 0x80 }) {
            return bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for v in DecodedScalars(bytes).scalars {
            for s in Unicode.Scalar(v)!.properties.lowercaseMapping.unicodeScalars {
                UTF8Bytes.append(s.value, to: &out)
            }
        }
        return out
    }
}
