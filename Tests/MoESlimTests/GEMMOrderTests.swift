import CKernels
import XCTest
@testable import MoESlimEngine

/// moe_gemm's promise: every output is one chain of fused multiply-adds over k in index order, from zero (or from
/// c when accumulating), whatever the rows, the column range or the path. The reference is that loop written out
/// with Swift's fused `addingProduct`, compared bit for bit on every path this CPU has.
final class GEMMOrderTests: XCTestCase {
    private struct Case {
        let rows, out, k: Int
        let bf16, inputMajor: Bool
    }

    /// Rows around the 6-row tile, columns around the 16-column panel and the 192-column block, k across the
    /// 256-deep block, both layouts and both element types, at odd addresses.
    private let cases: [Case] = [
        Case(rows: 1, out: 1, k: 1, bf16: false, inputMajor: false),
        Case(rows: 7, out: 17, k: 9, bf16: false, inputMajor: false),
        Case(rows: 13, out: 200, k: 257, bf16: false, inputMajor: false),
        Case(rows: 6, out: 33, k: 600, bf16: true, inputMajor: false),
        Case(rows: 11, out: 45, k: 31, bf16: false, inputMajor: true),
        Case(rows: 5, out: 19, k: 300, bf16: true, inputMajor: true),
    ]

    func testEveryOutputIsOneOrderedFMAChainOnEveryPath() throws {
        for c in cases {
            var generator = SplitMix(seed: UInt64(c.rows * 131 + c.out * 17 + c.k))
            let x = (0..<(c.rows * c.k)).map { _ in generator.uniform() - 0.5 }
            let stride = c.inputMajor ? c.out + 3 : c.k + 5
            let stored = (0..<(stride * (c.inputMajor ? c.k : c.out))).map { _ in generator.uniform() - 0.5 }
            let bytes = Self.unaligned(stored, bf16: c.bf16)
            let start = (0..<(c.rows * c.out)).map { _ in generator.uniform() }
            func w(_ n: Int, _ i: Int) -> Float {
                let v = stored[c.inputMajor ? i * stride + n : n * stride + i]
                return c.bf16 ? Float(bitPattern: v.bitPattern & 0xFFFF_0000) : v
            }
            for accumulate in [false, true] {
                var expected = accumulate ? start : [Float](repeating: 0, count: c.rows * c.out)
                for r in 0..<c.rows {
                    for n in 0..<c.out {
                        for i in 0..<c.k { expected[r * c.out + n].addProduct(x[r * c.k + i], w(n, i)) }
                    }
                }
                try KernelPaths.each { path in
                    var y = accumulate ? start : [Float](repeating: .nan, count: c.rows * c.out)
                    bytes.withUnsafeBytes { raw in
                        x.withUnsafeBufferPointer { xp in
                            var a = moe_operand(base: xp.baseAddress, stride: c.k, bf16: 0, input_major: 0)
                            var weight = moe_operand(base: raw.baseAddress! + 1, stride: stride, bf16: c.bf16 ? 1 : 0, input_major: c.inputMajor ? 1 : 0)
                            // Two column ranges, as two workers would take them.
                            let split = c.out / 3
                            moe_gemm(&a, c.rows, c.k, &weight, 0, split, &y, c.out, accumulate ? 1 : 0)
                            moe_gemm(&a, c.rows, c.k, &weight, split, c.out, &y, c.out, accumulate ? 1 : 0)
                        }
                    }
                    XCTAssertEqual(y.map(\.bitPattern), expected.map(\.bitPattern), "\(path) \(c) accumulate \(accumulate)")
                }
            }
        }
    }

    /// What makes shards merge bit for bit: row r of a product is the same whether it is computed alone or among
    /// any number of other rows, for bf16 products on every path (the AVX512-BF16 kernel included where present).
    func testARowsProductDoesNotDependOnTheOtherRows() throws {
        let k = 1100, out = 70
        var generator = SplitMix(seed: 42)
        let x = (0..<(30 * k)).map { _ in generator.uniform() - 0.5 }
        let bytes = Self.unaligned((0..<(out * k)).map { _ in generator.uniform() - 0.5 }, bf16: true)
        try bytes.withUnsafeBytes { raw in
            let w = BF16Matrix(base: raw.baseAddress! + 1, rows: out, columns: k)
            try KernelPaths.each { path in
                let all = BF16GEMM.multiply(x, rows: 30, w)
                for rows in [1, 2, 5, 12, 13, 29] {
                    let offset = 30 - rows
                    let some = BF16GEMM.multiply(Array(x[(offset * k)...]), rows: rows, w)
                    XCTAssertEqual(some.map(\.bitPattern), all[(offset * out)...].map(\.bitPattern), "\(path): last \(rows) rows")
                }
            }
        }
    }

    /// Values stored one byte past an aligned address, as f32 or as their bf16 upper halves.
    private static func unaligned(_ values: [Float], bf16: Bool) -> [UInt8] {
        var bytes: [UInt8] = [0]
        for v in values {
            let bits = v.bitPattern
            if bf16 {
                bytes += [UInt8((bits >> 16) & 0xFF), UInt8(bits >> 24)]
            } else {
                bytes += [UInt8(bits & 0xFF), UInt8((bits >> 8) & 0xFF), UInt8((bits >> 16) & 0xFF), UInt8(bits >> 24)]
            }
        }
        return bytes
    }
}
