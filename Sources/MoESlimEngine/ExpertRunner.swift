import Foundation
import MoESlimSupport
import MoESlimFamilies

/// Runs one routed expert on a gathered block of tokens, whatever its storage. Under bf16 compute bf16 experts
/// are read in place and MXFP4 experts dequantized to bf16; otherwise fused tensors are widened once per layer
/// and chunk, per-expert tensors only for the experts that received tokens.
struct ExpertRunner {
    private enum Stored {
        case perExpert(prefix: String, gate: String, up: String, down: String)
        case fusedGateUp(gateUp: FusedWeight, down: FusedWeight, inter: Int, inputMajor: Bool)
        case clamped(gateUp: FusedWeight, gateUpBias: [Float], down: FusedWeight, downBias: [Float], inter: Int, alpha: Float, limit: Float)
        case stacked(gate: FusedWeight, up: FusedWeight, down: FusedWeight, inter: Int)
    }

    private let stored: Stored
    private let weights: WeightReader
    private let hidden: Int
    /// Step's SwiGLU bound for this layer's experts (`EngineSpec.expertLimits`), nil for plain SwiGLU.
    private let limit: Float?
    private let activation: Activation

    init(
        format: ExpertFormat, layer: MoELayer, prefix: String, weights: WeightReader, hidden: Int, limit: Float? = nil,
        activation: Activation = .silu
    ) throws(MoESlimError) {
        self.activation = activation
        self.weights = weights
        self.hidden = hidden
        self.limit = limit
        let e = layer.numExperts
        let resolved = format.resolved(for: layer.experts, shape: { try? weights.shape(prefix + $0) }, hidden: hidden)
        switch resolved {
        case .perExpertOrFused, .fusedGateUpEitherMajor:
            throw MoESlimError(.unsupportedModel, "MoE layer \(layer.layer): the expert format has no storage to resolve to", path: weights.checkpoint.path)
        case .perExpert(let gate, let up, let down):
            stored = .perExpert(prefix: prefix + "experts.", gate: gate, up: up, down: down)
        case .fusedGateUp(let gateUpName, let downName):
            stored = try Self.fusedGateUp(prefix + gateUpName, prefix + downName, experts: e, hidden: hidden, inputMajor: false, weights: weights)
        case .fusedGateUpInputMajor(let gateUpName, let downName):
            stored = try Self.fusedGateUp(prefix + gateUpName, prefix + downName, experts: e, hidden: hidden, inputMajor: true, weights: weights)
        case .stacked(let gateName, let upName, let downName):
            let shape = try weights.shape(prefix + gateName)
            guard shape.count == 3, shape[0] == e, shape[2] == hidden else {
                throw MoESlimError(.invalidTensor, "expected [\(e), intermediate, \(hidden)], found \(shape)", path: weights.checkpoint.path, tensor: prefix + gateName)
            }
            let inter = shape[1]
            stored = .stacked(
                gate: try weights.fused(prefix + gateName), up: try weights.fused(prefix + upName, count: e * inter * hidden),
                down: try weights.fused(prefix + downName, count: e * hidden * inter), inter: inter)
        case .clampedSwiGLU(let gateUpName, let gateUpBiasName, let downName, let downBiasName, let alpha, let limit):
            let (gateUp, shape) = try Self.fusedOrMXFP4(prefix + gateUpName, weights: weights)
            guard shape.count == 3, shape[0] == e, shape[1] == hidden, shape[2] % 2 == 0 else {
                throw MoESlimError(.invalidTensor, "expected [\(e), \(hidden), 2·intermediate], found \(shape)", path: weights.checkpoint.path, tensor: prefix + gateUpName)
            }
            let inter = shape[2] / 2
            let (down, downShape) = try Self.fusedOrMXFP4(prefix + downName, weights: weights)
            guard downShape == [e, inter, hidden] else {
                throw MoESlimError(.invalidTensor, "expected [\(e), \(inter), \(hidden)], found \(downShape)", path: weights.checkpoint.path, tensor: prefix + downName)
            }
            stored = .clamped(
                gateUp: gateUp, gateUpBias: try weights.load(prefix + gateUpBiasName, count: e * 2 * inter),
                down: down, downBias: try weights.load(prefix + downBiasName, count: e * hidden),
                inter: inter, alpha: alpha, limit: limit)
        }
    }

    /// Fused gate+up and down tensors, output-major ([E, 2·I, H], transformers' per-expert-linear layout) or
    /// input-major ([E, H, 2·I], Llama 4's): the same data, read transposed.
    private static func fusedGateUp(
        _ gateUpName: String, _ downName: String, experts e: Int, hidden: Int, inputMajor: Bool, weights: WeightReader
    ) throws(MoESlimError) -> Stored {
        let shape = try weights.shape(gateUpName)
        let (hiddenAxis, pairAxis) = inputMajor ? (1, 2) : (2, 1)
        guard shape.count == 3, shape[0] == e, shape[hiddenAxis] == hidden, shape[pairAxis] % 2 == 0 else {
            let expected = inputMajor ? "[\(e), \(hidden), 2·intermediate]" : "[\(e), 2·intermediate, \(hidden)]"
            throw MoESlimError(.invalidTensor, "expected \(expected), found \(shape)", path: weights.checkpoint.path, tensor: gateUpName)
        }
        let inter = shape[pairAxis] / 2
        return .fusedGateUp(
            gateUp: try weights.fused(gateUpName), down: try weights.fused(downName, count: e * hidden * inter),
            inter: inter, inputMajor: inputMajor)
    }

    /// Released gpt-oss checkpoints store the experts as MXFP4 `_blocks` / `_scales`; others as plain tensors.
    private static func fusedOrMXFP4(_ name: String, weights: WeightReader) throws(MoESlimError) -> (FusedWeight, [Int]) {
        if !weights.contains(name) && weights.contains(name + "_blocks") {
            if weights.compute == .bf16 {
                let (storage, shape) = try weights.loadMXFP4BF16(name)
                return (.bf16(base: UnsafeRawPointer(storage.values.baseAddress!), owner: storage), shape)
            }
            let (values, shape) = try weights.loadMXFP4(name)
            return (.f32(values), shape)
        }
        return (try weights.fused(name), try weights.shape(name))
    }

    /// Lets an expert stored on its own go once it has run, so a layer's resident pages stay near one expert
    /// whatever the number of experts; fused experts go with their layer.
    func release(_ expert: Int) {
        if case .perExpert(let prefix, let gate, let up, let down) = stored {
            let p = prefix + "\(expert)."
            weights.release([p + gate, p + up, p + down])
        }
    }

    func run(_ expert: Int, _ x: [Float], rows: Int) throws(MoESlimError) -> [Float] {
        switch stored {
        case .perExpert(let prefix, let gate, let up, let down):
            let p = prefix + "\(expert)."
            return Kernels.gatedMLP(
                x, rows: rows, gate: try weights.linear(p + gate), up: try weights.linear(p + up), down: try weights.linear(p + down), hidden: hidden,
                activation: activation)
        case .fusedGateUp(let gateUp, let down, let inter, let inputMajor):
            let both = product(x, rows: rows, gateUp, offset: expert * 2 * inter * hidden, out: 2 * inter, transposed: inputMajor)
            var h = [Float](repeating: 0, count: rows * inter)
            for r in 0..<rows {
                for c in 0..<inter { h[r * inter + c] = gated(both[r * 2 * inter + c], both[r * 2 * inter + inter + c]) }
            }
            return product(h, rows: rows, down, offset: expert * hidden * inter, out: hidden, transposed: inputMajor)
        case .stacked(let gate, let up, let down, let inter):
            let g = product(x, rows: rows, gate, offset: expert * inter * hidden, out: inter, transposed: false)
            let u = product(x, rows: rows, up, offset: expert * inter * hidden, out: inter, transposed: false)
            let h = zip(g, u).map(gated)
            return product(h, rows: rows, down, offset: expert * hidden * inter, out: hidden, transposed: false)
        case .clamped(let gateUp, let gateUpBias, let down, let downBias, let inter, let alpha, let limit):
            let both = product(x, rows: rows, gateUp, offset: expert * hidden * 2 * inter, out: 2 * inter, transposed: true)
            var h = [Float](repeating: 0, count: rows * inter)
            for r in 0..<rows {
                for c in 0..<inter {
                    let gate = min(both[r * 2 * inter + 2 * c] + gateUpBias[expert * 2 * inter + 2 * c], limit)
                    let up = min(max(both[r * 2 * inter + 2 * c + 1] + gateUpBias[expert * 2 * inter + 2 * c + 1], -limit), limit)
                    h[r * inter + c] = (up + 1) * (gate * Kernels.sigmoid(gate * alpha))
                }
            }
            var y = product(h, rows: rows, down, offset: expert * inter * hidden, out: hidden, transposed: true)
            for r in 0..<rows {
                for c in 0..<hidden { y[r * hidden + c] += downBias[expert * hidden + c] }
            }
            return y
        }
    }

    /// activation(gate) · up, clamped as Step clamps its SiLU when the layer has a bound.
    private func gated(_ gate: Float, _ up: Float) -> Float {
        guard let limit else { return Kernels.gated(gate, up, activation) }
        return min(Kernels.silu(gate), limit) * min(max(up, -limit), limit)
    }

    /// x · one expert's slice of a fused weight, without copying the slice. `transposed`: the slice is stored
    /// input-major [in, out].
    private func product(_ x: [Float], rows: Int, _ w: FusedWeight, offset: Int, out: Int, transposed: Bool) -> [Float] {
        let inDim = x.count / rows
        switch w {
        case .bf16(let base, let owner):
            let matrix = BF16Matrix(base: base + 2 * offset, rows: out, columns: inDim, inputMajor: transposed, owner: owner)
            return BF16GEMM.multiply(x, rows: rows, matrix)
        case .f32(let w):
            var y = [Float](repeating: 0, count: rows * out)
            x.withUnsafeBufferPointer { xp in
                w.withUnsafeBufferPointer { wp in
                    y.withUnsafeMutableBufferPointer { yp in
                        Kernels.gemm(xp.baseAddress!, rows: rows, inDim: inDim, wp.baseAddress! + offset, out: out, weightTransposed: transposed, yp.baseAddress!)
                    }
                }
            }
            return y
        }
    }
}
