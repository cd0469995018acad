import CKernels
import MoESlimFormats
import MoESlimEngine

/// The arithmetic of a merge, in f32 as PEFT does it on a CPU, with the one difference that by default the sum is
/// rounded to the stored type once at the end; `.peft` rounds wherever PEFT's merge rounds.
public enum MergeRounding: String, Sendable, CaseIterable {
    case once
    case peft
}

/// Index products here cannot overflow: every factor is a dimension of a tensor whose header passed the checked
/// size rules, and MergePlan has matched the factors' shapes against the target's (rank × experts checked there)
/// before any edit is planned, so each product is at most some tensor's element count.
enum DeltaMath {
    /// ΔW in the stored layout of the region it lands on: (out × in), or (in × out) when `transposed`.
    static func delta(_ d: LowRankDelta) -> [Float] {
        let a = d.a.floats()
        let b = d.b.floats()
        let k = d.bColumns.count
        let inF = d.inColumns
        let bWidth = d.b.shape[1]
        let aPart = Array(a[(d.aRows.lowerBound * inF)..<(d.aRows.upperBound * inF)])
        var bPart = [Float](repeating: 0, count: d.outRows * k)
        for (o, row) in d.bRows.enumerated() {
            for (j, column) in d.bColumns.enumerated() { bPart[o * k + j] = b[row * bWidth + column] }
        }
        var product = [Float](repeating: 0, count: d.outRows * inF)
        if d.outRows < 4 {
            productWithoutFMA(bPart, aPart, rows: d.outRows, inner: k, columns: inF, into: &product)
        } else {
            productWithFMA(bPart, aPart, rows: d.outRows, inner: k, columns: inF, into: &product)
        }
        for i in product.indices { product[i] *= d.scale }
        guard d.transposed else { return product }
        var t = [Float](repeating: 0, count: product.count)
        for o in 0..<d.outRows {
            for i in 0..<inF { t[i * d.outRows + o] = product[o * inF + i] }
        }
        return t
    }

    /// The merged tensor, from its stored bytes and its edits, as f32 ready to be rounded to the output type.
    static func merged(
        stored: UnsafeRawBufferPointer, dtype: DType, shape: [Int], edits: [PlannedEdit], rounding: MergeRounding
    ) -> [Float] {
        var current = TensorElements.floats(stored, dtype: dtype)
        let hasDoRA = edits.contains { if case .dora = $0.edit { return true } else { return false } }
        var base: [Float]? = hasDoRA ? current : nil
        let roundEach = rounding == .peft && dtype != .F32
        for planned in edits {
            switch planned.edit {
            case .replace(let tensor):
                current = tensor.floats().map { TensorElements.rounded($0, to: dtype) }
                if hasDoRA { base = current }
            case .add(let d, let deltaRoundedFirst):
                var delta = delta(d)
                if deltaRoundedFirst && roundEach { round(&delta, to: dtype) }
                let start = planned.slice.map { $0 * delta.count } ?? 0
                current.withUnsafeMutableBufferPointer { w in
                    delta.withUnsafeBufferPointer { dw in
                        for i in 0..<dw.count { w[start + i] += dw[i] }
                    }
                }
            case .dora(let d, let magnitude):
                current = dora(d, magnitude: magnitude.floats(), current: current, base: base ?? current)
            case .addBias(let bias, let scale):
                for (i, v) in bias.floats().enumerated() { current[i] += v * scale }
            }
            if roundEach { round(&current, to: dtype) }
        }
        return current
    }

    /// PEFT's DoRA merge: m / ‖W₀ + ΔW‖ per output feature, times (W + ΔW), in f32. DoRA edits whole 2D tensors.
    private static func dora(_ d: LowRankDelta, magnitude m: [Float], current: [Float], base: [Float]) -> [Float] {
        let delta = delta(d)
        let outF = d.outRows, inF = d.inColumns
        func index(_ o: Int, _ i: Int) -> Int { d.transposed ? i * outF + o : o * inF + i }
        var merged = current
        var row = [Float](repeating: 0, count: inF)
        for o in 0..<outF {
            for i in 0..<inF { row[i] = base[index(o, i)] + delta[index(o, i)] }
            let factor = m[o] / torchNorm(row)
            for i in 0..<inF { merged[index(o, i)] = factor * (current[index(o, i)] + delta[index(o, i)]) }
        }
        return merged
    }

    private static func round(_ values: inout [Float], to dtype: DType) {
        values.withUnsafeMutableBufferPointer { v in
            for i in 0..<v.count { v[i] = TensorElements.rounded(v[i], to: dtype) }
        }
    }

    /// B·A as MKL's sgemm forms it for four or more output rows, each element one chain of fused multiply-adds
    /// over the rank in order; moe_gemm sums that way on every CPU, where OpenBLAS's order varies with the shape
    /// and the instruction set.
    private static func productWithFMA(_ b: [Float], _ a: [Float], rows: Int, inner: Int, columns: Int, into out: inout [Float]) {
        b.withUnsafeBufferPointer { bp in
            a.withUnsafeBufferPointer { ap in
                out.withUnsafeMutableBufferPointer { op in
                    guard let target = op.baseAddress else { return }
                    Kernels.orderedProduct(
                        moe_operand(base: bp.baseAddress, stride: inner, bf16: 0, input_major: 0), rows: rows, inner: inner,
                        moe_operand(base: ap.baseAddress, stride: columns, bf16: 0, input_major: 1), columns: columns,
                        into: target, ldc: columns)
                }
            }
        }
    }

    /// MKL, which torch's CPU matmul calls, sums the rank products one by one with separate multiply and add
    /// (no FMA) when the output has fewer than four rows, as a router pruned to few experts does.
    private static func productWithoutFMA(_ b: [Float], _ a: [Float], rows: Int, inner: Int, columns: Int, into out: inout [Float]) {
        for o in 0..<rows {
            for i in 0..<columns {
                var sum: Float = 0
                for j in 0..<inner { sum = sum + b[o * inner + j] * a[j * columns + i] }
                out[o * columns + i] = sum
            }
        }
    }

    /// torch.linalg.norm over one row in f32 as torch's CPU kernel sums it: eight lanes of squares added without
    /// FMA, the lanes then added in order, the tail last. DoRA's factor depends on it to the last bit.
    static func torchNorm(_ values: [Float]) -> Float {
        var lanes = [Float](repeating: 0, count: 8)
        let whole = values.count / 8 * 8
        for i in stride(from: 0, to: whole, by: 8) {
            for l in 0..<8 { lanes[l] = lanes[l] + values[i + l] * values[i + l] }
        }
        var sum: Float = 0
        for lane in lanes { sum = sum + lane }
        for v in values[whole...] { sum = sum + v * v }
        return sum.squareRoot()
    }
}
