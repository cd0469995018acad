/// Character classes as Oniguruma and Rust see them, answered from a table because split patterns ask about
/// every scalar of the corpus and `Unicode.Scalar.Properties` is a slow lookup per call.
enum UnicodeScalarClass {
    /// Two-letter general category names in the order of their bit in a category mask.
    static let categoryNames = [
        "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd", "Nl", "No", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po",
        "Sm", "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn",
    ]

    static let letters: UInt32 = 0b11111
    static let marks: UInt32 = 0b111 << 5
    static let numbers: UInt32 = 0b111 << 8
    static let decimalNumber: UInt32 = 1 << 8
    static let connectorPunctuation: UInt32 = 1 << 11

    private static let bmp: [UInt8] = (0..<0x10000).map { UInt8(computeCategory(UInt32($0))) }

    /// Bit index into a category mask.
    @inline(__always)
    static func category(_ v: UInt32) -> Int {
        v < 0x10000 ? Int(bmp[Int(v)]) : computeCategory(v)
    }

    @inline(__always)
    static func isIn(_ v: UInt32, _ mask: UInt32) -> Bool {
        mask & (1 << UInt32(category(v))) != 0
    }

    /// The White_Space property, which is what Oniguruma's and Rust's `\s` and `char::is_whitespace` use.
    @inline(__always)
    static func isWhitespace(_ v: UInt32) -> Bool {
        if v < 0x80 { return v == 0x20 || (v >= 0x09 && v <= 0x0D) }
        switch v {
        case 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }

    /// Rust regex's `\w`: Alphabetic, marks, decimal digits, connector punctuation and Join_Control.
    static func isWord(_ v: UInt32) -> Bool {
        if isIn(v, letters | marks | decimalNumber | connectorPunctuation | (1 << 9)) { return true }
        guard let scalar = Unicode.Scalar(v) else { return false }
        return scalar.properties.isAlphabetic || scalar.properties.isJoinControl
    }

    private static func computeCategory(_ v: UInt32) -> Int {
        guard let scalar = Unicode.Scalar(v) else { return 27 }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter: return 0
        case .lowercaseLetter: return 1
        case .titlecaseLetter: return 2
        case .modifierLetter: return 3
        case .otherLetter: return 4
        case .nonspacingMark: return 5
        case .spacingMark: return 6
        case .enclosingMark: return 7
        case .decimalNumber: return 8
        case .letterNumber: return 9
        case .otherNumber: return 10
        case .connectorPunctuation: return 11
        case .dashPunctuation: return 12
        case .openPunctuation: return 13
        case .closePunctuation: return 14
        case .initialPunctuation: return 15
        case .finalPunctuation: return 16
        case .otherPunctuation: return 17
        case .mathSymbol: return 18
        case .currencySymbol: return 19
        case .modifierSymbol: return 20
        case .otherSymbol: return 21
        case .spaceSeparator: return 22
        case .lineSeparator: return 23
        case .paragraphSeparator: return 24
        case .control: return 25
        case .format: return 26
        case .surrogate: return 27
        case .privateUse: return 28
        case .unassigned: return 29
        @unknown default: return 29
        }
    }

    /// Mask for a `\p{...}` name: one- or two-letter general categories and their long names.
    static func mask(forProperty name: String) -> UInt32? {
        let aliases: [String: String] = [
            "Letter": "L", "Mark": "M", "Number": "N", "Punctuation": "P", "Symbol": "S", "Separator": "Z",
            "Other": "C", "Uppercase_Letter": "Lu", "Lowercase_Letter": "Ll", "Decimal_Number": "Nd",
            "Digit": "Nd", "Punct": "P", "Control": "Cc", "Cntrl": "Cc",
        ]
        let short = aliases[name] ?? name
        if let i = categoryNames.firstIndex(of: short) { return 1 << UInt32(i) }
        guard short.count == 1 else { return nil }
        var mask: UInt32 = 0
        for (i, n) in categoryNames.enumerated() where n.hasPrefix(short) { mask |= 1 << UInt32(i) }
        return mask == 0 ? nil : mask
    }
}
