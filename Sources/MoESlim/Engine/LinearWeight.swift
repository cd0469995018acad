/// A Linear weight [out, in] as the engine multiplies it: widened to f32, or the stored bf16 bytes used where
/// they lie in the mmap, which the checkpoint keeps alive for as long as the pass runs.
enum LinearWeight {
    case f32([Float])
    case bf16(BF16Matrix)

    var count: Int {
        switch self {
        case .f32(let w): w.count
        case .bf16(let m): m.rows * m.columns
        }
    }
}

/// Row-major bf16 [rows, columns] in place; the base may be unaligned.
struct BF16Matrix: @unchecked Sendable {
    let base: UnsafeRawPointer
    let rows: Int
    let columns: Int

    func rows(_ range: Range<Int>) -> BF16Matrix {
        BF16Matrix(base: base + range.lowerBound * columns * 2, rows: range.count, columns: columns)
    }
}
