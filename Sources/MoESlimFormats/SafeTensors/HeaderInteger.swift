/// A header number as the reference reads it into a `usize` (serde_json into Rust's unsigned integers): plain
/// digits only. serde_json reads `-0` as the float -0.0, and any fraction or exponent (`1.0`, `1e3`) as a
/// float, and a float is refused where an integer is expected; a negative integer is refused as out of range.
/// JSON itself already forbids `+` and leading zeros, which JSONParser refuses before this is asked.
enum HeaderInteger {
    case value(Int)
    case negative
    case notInteger
    /// Beyond Int.max: no file that size can exist, and offsets and sizes are Ints here.
    case tooLarge

    init(_ literal: String) {
        let digits = literal.utf8
        if digits.first == UInt8(ascii: "-") {
            let rest = digits.dropFirst()
            let isFloat = rest.contains { $0 < 0x30 || $0 > 0x39 } || rest.allSatisfy { $0 == 0x30 }
            self = isFloat ? .notInteger : .negative
        } else if digits.contains(where: { $0 < 0x30 || $0 > 0x39 }) {
            self = .notInteger
        } else if let n = Int(literal) {
            self = .value(n)
        } else {
            self = .tooLarge
        }
    }
}
