import Foundation

/// A number of bytes as people type and read it, so every size option is parsed by one rule and every size the
/// tool prints has one spelling. Typed sizes are read the way transformers reads `max_shard_size` (decimal
/// "5GB" = 5·10⁹, binary "2GiB" = 2³¹, a bare number is bytes), so a value copied from a transformers call
/// means the same here; printed sizes are always binary (KiB, MiB, GiB, TiB), so one command never says KB
/// where another says KiB.
public struct ByteSize: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let bytes: Int

    public init(_ bytes: Int) {
        self.bytes = bytes
    }

    public static let kibibyte = 1 << 10
    public static let mebibyte = 1 << 20
    public static let gibibyte = 1 << 30
    public static let tebibyte = 1 << 40

    /// Binary units first: "GIB" also ends in "B", and "KB" must not be taken for a number followed by "B".
    private static let units: [(suffix: String, factor: Double)] = [
        ("KIB", Double(kibibyte)), ("MIB", Double(mebibyte)), ("GIB", Double(gibibyte)), ("TIB", Double(tebibyte)),
        ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("B", 1),
    ]

    /// A positive size such as "5GB", "500 MiB", "1.5GiB" or "4096"; nil for anything else (zero, negative,
    /// not a number, unknown unit, beyond Int). Units are case-insensitive, as in transformers.
    public init?(parsing text: String) {
        let upper = text.uppercased().trimmingCharacters(in: .whitespaces)
        if let exact = Int(upper) {
            guard exact > 0 else { return nil }
            self.init(exact)
            return
        }
        for (suffix, factor) in Self.units where upper.hasSuffix(suffix) {
            let number = upper.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
            guard let value = Double(number), value.isFinite, value > 0 else { return nil }
            let bytes = (value * factor).rounded(.down)
            guard bytes >= 1, bytes < 9e18 else { return nil }
            self.init(Int(bytes))
            return
        }
        return nil
    }

    /// "512 B", "16 MiB" for a whole number of the largest unit that fits, else two decimals: "1.53 GiB".
    public var description: String {
        let units: [(Int, String)] = [(Self.tebibyte, "TiB"), (Self.gibibyte, "GiB"), (Self.mebibyte, "MiB"), (Self.kibibyte, "KiB")]
        for (scale, suffix) in units where bytes >= scale {
            if bytes % scale == 0 { return "\(bytes / scale) \(suffix)" }
            return String(format: "%.2f %@", Double(bytes) / Double(scale), suffix)
        }
        return "\(bytes) B"
    }

    public static func < (a: ByteSize, b: ByteSize) -> Bool { a.bytes < b.bytes }
}
