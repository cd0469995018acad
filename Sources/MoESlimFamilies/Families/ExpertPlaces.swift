import MoESlimFormats

/// A tensor's position in `checkpoint.names` with its name's UTF-8, which stays valid while the checkpoint lives:
/// describe reads 90,000 names this way without making a String of any.
struct NamedPosition {
    let position: Int
    let name: UnsafeRawBufferPointer
}

/// Where each tensor of one MoE layer belongs, read from the UTF-8 of its name after the layer prefix: a
/// DeepSeek-V3 layer has 1,500 expert tensors, and Character-by-Character Substring work on each was a large
/// part of `describe`. Prefixes are matched on bytes, as Python matches them.
struct ExpertPlaces {
    enum Place {
        /// `experts.<e>.…`: one expert's own tensor.
        case expert(Int)
        /// Under `experts.` without a number, or a family's fused expert name: one slice per expert.
        case fused
        case shared
        case other
    }

    private let prefixLength: Int
    /// Bytes up to the expert number: the layer prefix, then `experts.`.
    private let markerLength: Int
    /// `experts.`, then the fused expert names, then the shared paths, end to end.
    private let patterns: ByteRegion
    private let fusedCount: Int
    private let patternStarts: [Int]

    init(_ layout: FamilyLayout, prefix: String) {
        prefixLength = prefix.utf8.count
        markerLength = prefixLength + layout.expertsPath.utf8.count
        let all = [layout.expertsPath] + layout.fusedExpertNames + layout.sharedPaths
        patterns = all.flatMap(\.utf8).withUnsafeBytes { ByteRegion(copying: $0) }
        patternStarts = all.reduce(into: [0]) { $0.append($0.last! + $1.utf8.count) }
        fusedCount = layout.fusedExpertNames.count
    }

    private func pattern(_ i: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: patterns.bytes[patternStarts[i] ..< patternStarts[i + 1]])
    }

    /// For a name longer than the layer prefix.
    func place(of name: UnsafeRawBufferPointer) -> Place {
        let rel = UnsafeRawBufferPointer(rebasing: name[min(prefixLength, name.count)...])
        func starts(with i: Int) -> Bool {
            let p = pattern(i)
            return rel.count >= p.count && UnsafeRawBufferPointer(rebasing: rel[..<p.count]).sameBytes(p)
        }
        if starts(with: 0) {
            let head = rel.dropFirst(pattern(0).count).prefix { $0 != UInt8(ascii: ".") }
            return Self.number(head).map(Place.expert) ?? .fused
        }
        if (1 ..< 1 + fusedCount).contains(where: starts(with:)) { return .fused }
        if (fusedCount + 1 ..< patternStarts.count - 1).contains(where: starts(with:)) { return .shared }
        return .other
    }

    /// Decimal digits only, at least one, within Int.
    private static func number(_ digits: Slice<UnsafeRawBufferPointer>) -> Int? {
        guard !digits.isEmpty else { return nil }
        var value = 0
        for c in digits {
            guard c >= 0x30, c <= 0x39 else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(c - 0x30))
            guard !o1, !o2 else { return nil }
            value = a
        }
        return value
    }

    /// Whether expert `e`'s tensors are `experts.<e>.` followed by what follows `experts.0.` in expert 0's, in
    /// the same order (checkpoints list every expert alike): then expert 0's sorting permutation sorts them
    /// too, with no comparison. Otherwise they are sorted and compared in full.
    func isLike(_ tensors: ArraySlice<NamedPosition>, expert e: Int, reference: [NamedPosition]) -> Bool {
        guard tensors.count == reference.count else { return false }
        let (skip, referenceSkip) = (suffixStart(e), suffixStart(0))
        return zip(tensors, reference).allSatisfy { own, other in
            writesPlainly(e, in: own.name) && writesPlainly(0, in: other.name)
                && suffix(own.name, from: skip).sameBytes(suffix(other.name, from: referenceSkip))
        }
    }

    /// Whether the name has `e` written plainly (no leading zero) and a dot after the marker.
    private func writesPlainly(_ e: Int, in name: UnsafeRawBufferPointer) -> Bool {
        let dot = suffixStart(e) - 1
        guard name.count > dot, name[dot] == UInt8(ascii: ".") else { return false }
        var (value, i) = (e, dot - 1)
        while i >= markerLength {
            guard name[i] == UInt8(ascii: "0") + UInt8(value % 10) else { return false }
            value /= 10
            i -= 1
        }
        return true
    }

    /// What follows `experts.<e>.` in each name, in byte order, for comparing experts and for messages.
    func suffixes(_ tensors: [NamedPosition], expert e: Int) -> [String] {
        let skip = suffixStart(e)
        return tensors.map { suffix($0.name, from: skip) }.sorted { $0.compareBytes($1) < 0 }.map { String(decoding: $0, as: UTF8.self) }
    }

    private func suffix(_ name: UnsafeRawBufferPointer, from skip: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: name[min(skip, name.count)...])
    }

    /// Where the rest of a name starts when the expert number is written plainly; a name that writes it any
    /// other way (leading zeros) then ends differently from expert 0's and is refused.
    private func suffixStart(_ e: Int) -> Int {
        var (digits, rest) = (1, e / 10)
        while rest > 0 { (digits, rest) = (digits + 1, rest / 10) }
        return markerLength + digits + 1
    }
}
