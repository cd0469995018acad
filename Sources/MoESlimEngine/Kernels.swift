import CKernels
import COpenBLAS
import Foundation
import MoESlimFamilies

/// The engine's numeric building blocks on row-major f32 activations. A chunk of tokens is one large
/// multiplication per weight: BF16GEMM for bf16 weights under bf16 compute, moe_gemm otherwise.
package enum Kernels {
    /// y[rows, out] = x[rows, in] · Wᵀ (+ bias) for a Linear weight W stored [out, in].
    static func linear(_ x: [Float], rows: Int, weight: [Float], out: Int, bias: [Float]? = nil) -> [Float] {
        var y = [Float](repeating: 0, count: rows * out)
        guard rows > 0, out > 0 else { return y }
        let inDim = weight.count / out
        x.withUnsafeBufferPointer { xp in
            weight.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer { yp in
                    gemm(xp.baseAddress!, rows: rows, inDim: inDim, wp.baseAddress!, out: out, weightTransposed: false, yp.baseAddress!)
                }
            }
        }
        if let bias { addRowBias(&y, bias) }
        return y
    }

    /// y[rows, out] = x · Wᵀ (+ bias) for a weight in either form.
    static func linear(_ x: [Float], rows: Int, weight: LinearWeight, out: Int, bias: [Float]? = nil) -> [Float] {
        switch weight {
        case .f32(let w):
            return linear(x, rows: rows, weight: w, out: out, bias: bias)
        case .bf16(let w):
            var y = BF16GEMM.multiply(x, rows: rows, w)
            if let bias { addRowBias(&y, bias) }
            return y
        }
    }

    /// Rows of x · Wᵀ written at row stride `ldc` into memory the caller owns, so results can land directly in
    /// a slice of a wider matrix.
    static func linear(_ x: UnsafePointer<Float>, rows: Int, weight: LinearWeight, out: Int, into y: UnsafeMutablePointer<Float>, ldc: Int) {
        guard rows > 0, out > 0 else { return }
        switch weight {
        case .f32(let w):
            w.withUnsafeBufferPointer { wp in
                gemm(x, rows: rows, inDim: w.count / out, wp.baseAddress!, out: out, weightTransposed: false, y, ldc: ldc)
            }
        case .bf16(let w):
            BF16GEMM.multiply(x, rows: rows, w, into: y, ldc: ldc)
        }
    }

    /// y = x · W for W stored [in, out] when `weightTransposed` (gpt_oss experts), else x · Wᵀ for [out, in].
    static func gemm(
        _ x: UnsafePointer<Float>, rows: Int, inDim: Int, _ w: UnsafePointer<Float>, out: Int,
        weightTransposed: Bool, _ y: UnsafeMutablePointer<Float>, ldc: Int? = nil, accumulate: Bool = false
    ) {
        orderedProduct(
            moe_operand(base: x, stride: inDim, bf16: 0, input_major: 0), rows: rows, inner: inDim,
            moe_operand(base: w, stride: weightTransposed ? out : inDim, bf16: 0, input_major: weightTransposed ? 1 : 0),
            columns: out, into: y, ldc: ldc ?? out, accumulate: accumulate)
    }

    /// y[r, 0..<columns] (+)= a[r, :] · Wᵀ by moe_gemm, the columns split across the cores. Each output is summed in
    /// moe_gemm's one order, so a token's result does not depend on which other tokens share its chunk, on the core
    /// count, or on the CPU.
    package static func orderedProduct(
        _ a: moe_operand, rows: Int, inner k: Int, _ w: moe_operand, columns n: Int, into y: UnsafeMutablePointer<Float>, ldc: Int,
        accumulate: Bool = false
    ) {
        let operands = SharedOperands(a: a, w: w), target = SharedPointer(base: y)
        Parallel.ranges(n, minimum: max(16, 4_194_304 / max(1, rows * k))) { part in
            var a = operands.a, w = operands.w
            moe_gemm(&a, rows, k, &w, part.lowerBound, part.upperBound, target.base, ldc, accumulate ? 1 : 0)
        }
    }

    /// OpenBLAS, which attention's per-sequence products use, runs single-threaded inside the engine's own
    /// workers: its idle threads otherwise spin in sched_yield between calls and take cycles from the kernels.
    static let ownThreads: Void = openblas_set_num_threads(1)

    static func addRowBias(_ y: inout [Float], _ bias: [Float]) {
        let n = bias.count
        y.withUnsafeMutableBufferPointer { yp in
            for r in 0..<(yp.count / n) {
                for c in 0..<n { yp[r * n + c] += bias[c] }
            }
        }
    }

    /// RMSNorm over groups of `width` values as transformers computes it: mean square in f32, then weight.
    static func rmsNorm(_ x: inout [Float], width: Int, weight: [Float], eps: Float) {
        x.withUnsafeMutableBufferPointer { xp in
            for r in 0..<(xp.count / width) {
                let base = r * width
                var sum: Float = 0
                for c in 0..<width { sum += xp[base + c] * xp[base + c] }
                let scale = 1 / (sum / Float(width) + eps).squareRoot()
                for c in 0..<width { xp[base + c] = weight[c] * (xp[base + c] * scale) }
            }
        }
    }

    /// LayerNorm over groups of `width` values: biased variance, then weight and bias.
    static func layerNorm(_ x: inout [Float], width: Int, weight: [Float], bias: [Float], eps: Float) {
        x.withUnsafeMutableBufferPointer { xp in
            for r in 0..<(xp.count / width) {
                let base = r * width
                var mean: Float = 0
                for c in 0..<width { mean += xp[base + c] }
                mean /= Float(width)
                var variance: Float = 0
                for c in 0..<width { variance += (xp[base + c] - mean) * (xp[base + c] - mean) }
                let scale = 1 / (variance / Float(width) + eps).squareRoot()
                for c in 0..<width { xp[base + c] = (xp[base + c] - mean) * scale * weight[c] + bias[c] }
            }
        }
    }

    @inline(__always) static func silu(_ v: Float) -> Float { v / (1 + exp(-v)) }

    @inline(__always) static func sigmoid(_ v: Float) -> Float { 1 / (1 + exp(-v)) }

    /// torch's gelu(approximate="tanh"), in f32 as its CPU kernel computes it: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
    @inline(__always) static func geluTanh(_ v: Float) -> Float {
        let beta: Float = 0.7978845608028654, kappa: Float = 0.044715
        return 0.5 * v * (1 + tanh(beta * (v + kappa * v * v * v)))
    }

    /// activation(gate) · up for one element.
    @inline(__always) static func gated(_ gate: Float, _ up: Float, _ activation: Activation) -> Float {
        switch activation {
        case .silu: return silu(gate) * up
        case .geluTanh: return geluTanh(gate) * up
        }
    }

    /// SiLU(gate) * up, elementwise, written into gate.
    static func swiglu(_ gate: inout [Float], _ up: [Float]) {
        let n = gate.count
        gate.withUnsafeMutableBufferPointer { g in
            up.withUnsafeBufferPointer { u in
                let gp = SharedPointer(base: g.baseAddress!), up = SharedReadPointer(base: u.baseAddress!)
                Parallel.ranges(n) { range in moe_silu_mul(gp.base + range.lowerBound, up.base + range.lowerBound, range.count) }
            }
        }
    }

    /// A gated MLP (SiLU unless `activation` says otherwise) on `rows` tokens; bf16 gate and up weights share one rounding of x.
    static func gatedMLP(
        _ x: [Float], rows: Int, gate: LinearWeight, up: LinearWeight, down: LinearWeight, hidden: Int, limit: Float? = nil,
        activation: Activation = .silu
    ) -> [Float] {
        let inter = gate.count / hidden
        var g: [Float]
        let u: [Float]
        if case .bf16(let gw) = gate, case .bf16(let uw) = up, rows > 0 {
            let a = x.withUnsafeBufferPointer { BF16Rows($0.baseAddress!, rows: rows, columns: hidden) }
            g = BF16GEMM.multiply(a, gw)
            u = BF16GEMM.multiply(a, uw)
        } else {
            g = linear(x, rows: rows, weight: gate, out: inter)
            u = linear(x, rows: rows, weight: up, out: inter)
        }
        if let limit {
            clampedSwiGLU(&g, u, limit: limit)
        } else if case .silu = activation {
            swiglu(&g, u)
        } else {
            for i in g.indices { g[i] = gated(g[i], u[i], activation) }
        }
        return linear(g, rows: rows, weight: down, out: hidden)
    }

    /// Step's clamped SwiGLU: min(silu(gate), limit) · clamp(up, -limit, limit), in place in `gate`.
    static func clampedSwiGLU(_ gate: inout [Float], _ up: [Float], limit: Float) {
        for i in gate.indices { gate[i] = min(silu(gate[i]), limit) * min(max(up[i], -limit), limit) }
    }

    /// Softmax of one row in place, max-subtracted and in f32 as torch computes it.
    static func softmax(_ row: UnsafeMutableBufferPointer<Float>) {
        guard let m = row.max() else { return }
        var sum: Float = 0
        for i in row.indices {
            row[i] = exp(row[i] - m)
            sum += row[i]
        }
        for i in row.indices { row[i] /= sum }
    }
}
