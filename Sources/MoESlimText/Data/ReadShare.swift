import Foundation

/// The sizes of a reader's input files, taken once up front, so progress can show an ETA from the bytes read
/// without counting the records first.
struct ReadShare {
    private let sizes: [Int]

    init(paths: [String]) {
        sizes = paths.map { path in
            ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.intValue ?? 0
        }
    }

    /// The share read once `finishedFiles` inputs are done and `consumed` bytes of the next are read; nil when
    /// there is nothing to read (inputs are regular files, so their sizes are known).
    func fraction(finishedFiles: Int, consumed: Int) -> Double? {
        let total = sizes.reduce(0, +)
        guard total > 0 else { return nil }
        let finished = sizes[..<min(finishedFiles, sizes.count)].reduce(0, +)
        return min(1, Double(finished + consumed) / Double(total))
    }
}
