import MoESlimSupport
import MoESlimFormats
import MoESlimEngine

/// AIMER's sums over ggml quantized blocks, each value dequantized as ggml's reference code does
/// (ggml-quants.c `dequantize_row_q8_0`, `dequantize_row_q4_0`; gguf-py's `quants.dequantize` gives the same
/// floats): the fp16 scale d times the integer quant, in f32. Only types whose values are that cheap and exact
/// are read; `supported` names them and the GGUF reader refuses the rest.
enum GGMLBlockSums {
    /// Q8_0 (d, 32 × int8: q·d) and Q4_0 (d, 16 bytes of two 4-bit quants: (q − 8)·d, low nibbles first).
    static let supported = ["Q8_0", "Q4_0"]

    static func isSupported(_ type: GGMLType) -> Bool { supported.contains { $0.sameBytes(as: type.name) } }

    /// Blocks summed in fixed runs of 2048 (65,536 values) spread over the cores and added in run order, so the
    /// score does not depend on the thread count. `bytes` is whole blocks of a supported type.
    static func sums(_ bytes: UnsafeRawBufferPointer, type: GGMLType) -> AimerScores.Sums {
        let isQ8 = type.name.sameBytes(as: "Q8_0")
        let blocks = bytes.count / type.bytesPerBlock, run = 2048
        let runs = (blocks + run - 1) / run
        var partial = [AimerScores.Sums](repeating: AimerScores.Sums(), count: runs)
        partial.withUnsafeMutableBufferPointer { out in
            guard let target = out.baseAddress.map(SharedPointer.init), let base = bytes.baseAddress else { return }
            let source = SharedRawPointer(base: base)
            Parallel.ranges(runs, minimum: 1) { range in
                for r in range {
                    var absolute = 0.0, squares = 0.0
                    let end = min(blocks, (r + 1) * run)
                    for b in (r * run)..<end {
                        let block = source.base + b * type.bytesPerBlock
                        let d = Float(Float16(bitPattern: block.loadUnaligned(as: UInt16.self)))
                        func add(_ q: Int) {
                            let v = Double(Float(q) * d)
                            absolute += abs(v)
                            squares += v * v
                        }
                        if isQ8 {
                            for j in 0..<32 { add(Int(Int8(bitPattern: block.load(fromByteOffset: 2 + j, as: UInt8.self)))) }
                        } else {
                            for j in 0..<16 { add(Int(block.load(fromByteOffset: 2 + j, as: UInt8.self) & 0x0F) - 8) }
                            for j in 0..<16 { add(Int(block.load(fromByteOffset: 2 + j, as: UInt8.self) >> 4) - 8) }
                        }
                    }
                    target.base[r] = AimerScores.Sums(absolute: absolute, squares: squares, count: (end - r * run) * 32)
                }
            }
        }
        return partial.reduce(into: AimerScores.Sums()) { $0.add($1) }
    }
}
