/// A Linear weight [out, in] as the engine multiplies it: widened to f32, or bf16 values used where they lie
/// (in the checkpoint's mmap, which stays open for as long as the pass runs, or in dequantized storage).
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

/// bf16 values of a Linear weight with `rows` outputs and `columns` inputs, stored output-major ([out, in],
/// nn.Linear's layout) or input-major ([in, out], how gpt-oss and Llama 4 store fused experts), `stride`
/// elements between stored rows. The base may be unaligned.
struct BF16Matrix: @unchecked Sendable {
    let base: UnsafeRawPointer
    let rows: Int
    let columns: Int
    let stride: Int
    let inputMajor: Bool
    /// Keeps dequantized storage alive; nil for views into the checkpoint.
    let owner: BF16Storage?

    init(base: UnsafeRawPointer, rows: Int, columns: Int, stride: Int? = nil, inputMajor: Bool = false, owner: BF16Storage? = nil) {
        self.base = base
        self.rows = rows
        self.columns = columns
        self.stride = stride ?? (inputMajor ? rows : columns)
        self.inputMajor = inputMajor
        self.owner = owner
    }

    /// Outputs `range` only.
    func rows(_ range: Range<Int>) -> BF16Matrix {
        let offset = inputMajor ? range.lowerBound : range.lowerBound * stride
        return BF16Matrix(base: base + 2 * offset, rows: range.count, columns: columns, stride: stride, inputMajor: inputMajor, owner: owner)
    }

    /// Element (output o, input i), widened.
    func value(_ o: Int, _ i: Int) -> Float {
        let index = inputMajor ? i * stride + o : o * stride + i
        return Float(bitPattern: UInt32(base.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self)) << 16)
    }
}

/// bf16 values the engine made itself (MXFP4 experts dequantized exactly), freed with the last matrix using them.
final class BF16Storage: @unchecked Sendable {
    let values: UnsafeMutableBufferPointer<UInt16>

    init(count: Int) { values = .allocate(capacity: count) }

    deinit { values.deallocate() }
}

/// The experts of a layer stored as one tensor [E, …]: widened, or bf16 values from which each expert's
/// matrix is a view.
enum FusedWeight {
    case f32([Float])
    case bf16(base: UnsafeRawPointer, owner: BF16Storage?)
}
