import MoESlimSupport
import MoESlimFormats

/// The one shape check, run by describe before any command uses a tensor and reported in full by verify: every
/// tensor the family's description and its engine spec name has the shape the config implies, and tensors that
/// share a width (an expert's gate, up and down) agree on it. The engine multiplies by stored shapes and
/// transformers refuses a checkpoint whose shapes differ from its modules, so a wrong shape must stop here: not
/// read past a weight's end in calibrate, not be published by prune. Tensors a family may leave out (biases,
/// norms of other kinds) are checked when present; missing required ones are the forward pass's to name.
struct ModelShapes {
    private let checkpoint: Checkpoint
    private let model: ModelDescription
    private var problems: [MoESlimError] = []

    private init(_ checkpoint: Checkpoint, _ model: ModelDescription) {
        self.checkpoint = checkpoint
        self.model = model
    }

    /// Every problem, in layer order after the embeddings.
    static func problems(_ outline: ModelOutline, in checkpoint: Checkpoint) -> [MoESlimError] {
        var check = ModelShapes(checkpoint, outline.model)
        check.vocabulary()
        let spec = outline.model.forwardPass?.shapeSpec()
        let moe = Dictionary(uniqueKeysWithValues: zip(outline.model.moeLayers, outline.experts).map { ($0.0.layer, $0) })
        for layer in 0..<outline.model.numLayers {
            let prefix = spec?.names.layer(layer) ?? ""
            if let spec { check.decoderLayer(prefix, layer: layer, spec: spec) }
            if let (described, experts) = moe[layer] {
                check.router(described)
                if let spec { check.experts(described, spec: spec, moePrefix: prefix + spec.moePath) }
                check.expertsAlike(described, experts)
            } else if let spec {
                let m = spec.denseMLP
                check.gatedMLP(prefix + m.prefix, m, width: spec.intermediate.dense)
            }
        }
        if let spec { check.norm(spec.finalNorm, spec: spec) }
        return check.problems + BlockScales.problems(in: checkpoint)
    }

    private var hidden: Int { model.hiddenSize }

    /// Checks a tensor if it is present.
    private mutating func expect(_ name: String, _ expected: ExpectedShape) {
        guard let shape = checkpoint.info(name)?.shape, !expected.accepts(shape) else { return }
        problems.append(MoESlimError(.invalidTensor, "has shape \(shape), expected \(expected)", path: checkpoint.path, tensor: name))
    }

    private mutating func vocabulary() {
        let vocabulary = [model.vocabSize, hidden]
        for name in [model.embedTensor] + (model.lmHeadTensor.map { [$0] } ?? []) {
            guard let shape = checkpoint.info(name)?.shape, shape != vocabulary else { continue }
            problems.append(MoESlimError(
                .invalidTensor, "has shape \(shape) but the config's vocab_size and hidden_size make \(vocabulary)",
                path: checkpoint.path, tensor: name))
        }
    }

    private mutating func decoderLayer(_ prefix: String, layer: Int, spec: EngineSpec) {
        if let sublayers = spec.shortcutSublayers {
            for names in sublayers {
                norm(prefix + names[.attentionNorm], spec: spec)
                attention(prefix + names[.attention], spec.attention, layer: layer, names: names)
                norm(prefix + names[.mlpNorm], spec: spec)
                gatedMLP(prefix + names[.denseMLP], names.gatedMLP(prefix: ""), width: spec.intermediate.dense)
            }
            return
        }
        norm(prefix + spec.inputNorm, spec: spec)
        if let linear = spec.attention.linear, linear.layers.contains(layer) {
            linearAttention(prefix + spec.names[.linearAttention], linear, names: spec.names)
        } else if let conv = spec.attention.shortConvolution, conv.layers.contains(layer) {
            shortConvolution(prefix + spec.names[.shortConvolution], conv, names: spec.names)
        } else {
            attention(prefix + spec.names[.attention], spec.attention, layer: layer, names: spec.names)
        }
        norm(prefix + spec.postAttentionNorm, spec: spec)
        for output in [spec.attentionOutputNorm, spec.mlpOutputNorm].compactMap({ $0 }) { norm(prefix + output, spec: spec) }
        if spec.expertsBesideDenseMLP {
            for role in [TensorRole.denseMLPOutputNorm, .expertsInputNorm, .expertsOutputNorm] { norm(prefix + spec.names[role], spec: spec) }
        }
        if let scale = spec.layerScale { expect(prefix + scale, ExpectedShape(.size(1))) }
    }

    /// Gated DeltaNet's projections, depthwise convolution [channels, 1, K], per-value-head parameters, the
    /// gated norm over one value head and out_proj.
    private mutating func linearAttention(_ p: String, _ a: LinearAttentionSpec, names: TensorNames) {
        let keys = a.keyHeads * a.keyDim, values = a.valueHeads * a.valueDim
        switch a.projections {
        case .interleaved:
            linear(p + names[.linearQKVZ], out: 2 * keys + 2 * values, in: hidden)
            linear(p + names[.linearBA], out: 2 * a.valueHeads, in: hidden)
        case .separate:
            linear(p + names[.linearQKV], out: 2 * keys + values, in: hidden)
            linear(p + names[.linearZ], out: values, in: hidden)
            linear(p + names[.linearB], out: a.valueHeads, in: hidden)
            linear(p + names[.linearA], out: a.valueHeads, in: hidden)
        }
        expect(p + names[.linearConv], ExpectedShape(.size(a.convChannels), .size(1), .size(a.convKernel)))
        expect(p + names[.linearTimeStepBias], ExpectedShape(.size(a.valueHeads)))
        expect(p + names[.linearDecayLog], ExpectedShape(.size(a.valueHeads)))
        expect(p + names[.linearNorm] + ".weight", ExpectedShape(.size(a.valueDim)))
        linear(p + names[.linearOutput], out: hidden, in: values)
    }

    /// The short convolution's in_proj [3·hidden, hidden], depthwise Conv1d [hidden, 1, K] (bias [hidden]) and
    /// out_proj [hidden, hidden].
    private mutating func shortConvolution(_ p: String, _ c: ShortConvolutionSpec, names: TensorNames) {
        linear(p + names[.shortConvolutionInput], out: 3 * hidden, in: hidden)
        let kernel = p + names[.shortConvolutionKernel]
        expect(kernel + ".weight", ExpectedShape(.size(hidden), .size(1), .size(c.kernel)))
        expect(kernel + ".bias", ExpectedShape(.size(hidden)))
        linear(p + names[.shortConvolutionOutput], out: hidden, in: hidden)
    }

    private mutating func norm(_ module: String, spec: EngineSpec) {
        expect(module + ".weight", ExpectedShape(.size(hidden)))
        if spec.norm == .layer { expect(module + ".bias", ExpectedShape(.size(hidden))) }
    }

    /// A Linear layer: weight [out, in], bias [out].
    private mutating func linear(_ module: String, out: Int, in inputs: Int) {
        expect(module + ".weight", ExpectedShape(.size(out), .size(inputs)))
        expect(module + ".bias", ExpectedShape(.size(out)))
    }

    private mutating func attention(_ p: String, _ a: AttentionSpec, layer: Int, names: TensorNames) {
        let heads = a.heads(layer), d = a.headWidth(layer)
        switch a.kind {
        case .grouped:
            let (q, kv) = (heads * d, a.keyValueHeads(layer) * d)
            if case .inQuery = a.outputGate {
                linear(p + names[.query], out: 2 * q, in: hidden)
            } else {
                linear(p + names[.query], out: q, in: hidden)
            }
            if case .ownProjection = a.outputGate { linear(p + names[.attentionGate], out: q, in: hidden) }
            linear(p + names[.key], out: kv, in: hidden)
            if !a.keysAsValuesLayers.contains(layer) { linear(p + names[.value], out: kv, in: hidden) }
            linear(p + names[.output], out: hidden, in: q)
            switch a.qkNorm {
            case .perHead, .perHeadAfterRope:
                expect(p + names[.queryNorm] + ".weight", ExpectedShape(.size(d)))
                expect(p + names[.keyNorm] + ".weight", ExpectedShape(.size(d)))
            case .whole:
                expect(p + names[.queryNorm] + ".weight", ExpectedShape(.size(q)))
                expect(p + names[.keyNorm] + ".weight", ExpectedShape(.size(kv)))
            case .none, .unweightedAfterRope:
                break
            }
            expect(p + names[.sinks], ExpectedShape(.size(heads)))
            if a.headGate, let gate = names.name(.attentionGate) { linear(p + gate, out: heads, in: hidden) }
        case .multiLatent(let mla):
            let heads = a.numHeads, qk = mla.nopeDim + mla.ropeDim
            if let rank = mla.qLoraRank {
                linear(p + names[.queryDown], out: rank, in: hidden)
                expect(p + names[.queryDownNorm] + ".weight", ExpectedShape(.size(rank)))
                linear(p + names[.queryUp], out: heads * qk, in: rank)
            } else {
                linear(p + names[.query], out: heads * qk, in: hidden)
            }
            linear(p + names[.keyValueDown], out: mla.kvLoraRank + mla.ropeDim, in: hidden)
            expect(p + names[.keyValueDownNorm] + ".weight", ExpectedShape(.size(mla.kvLoraRank)))
            linear(p + names[.keyValueUp], out: heads * (mla.nopeDim + mla.valueDim), in: mla.kvLoraRank)
            linear(p + names[.output], out: hidden, in: heads * mla.valueDim)
        }
    }

    /// gate [I, hidden], up [I, hidden], down [hidden, I], I from the config or else read from the gate.
    private mutating func gatedMLP(_ p: String, _ m: GatedMLPNames, width: Int?) {
        gatedMLP(gate: p + m.gate, up: p + m.up, down: p + m.down, width: width)
    }

    private mutating func gatedMLP(gate: String, up: String, down: String, width: Int?) {
        let inter = width.map(ExpectedShape.Dim.size) ?? intermediate(checkpoint.info(gate)?.shape, axis: 0, rank: 2)
        expect(gate, ExpectedShape(inter, .size(hidden)))
        expect(up, ExpectedShape(inter, .size(hidden)))
        expect(down, ExpectedShape(.size(hidden), inter))
    }

    /// The intermediate width a tensor holds on `axis`, or a wildcard when it cannot tell (its own check
    /// then names it): for families whose config does not state it.
    private func intermediate(_ shape: [Int]?, axis: Int, rank: Int, halved: Bool = false) -> ExpectedShape.Dim {
        guard let shape, shape.count == rank, !halved || shape[axis] % 2 == 0 else { return .any("intermediate") }
        return .size(halved ? shape[axis] / 2 : shape[axis])
    }

    /// Weights [E, hidden] (or [hidden, E] on axis 1); biases [E] (or [1, E] on axis 1).
    private mutating func router(_ layer: MoELayer) {
        let e = layer.numExperts
        for r in layer.router {
            let isWeight = r.name.hasByteSuffix("weight")
            let other: ExpectedShape.Dim = .size(isWeight ? hidden : 1)
            if r.axis == 0 {
                expect(r.name, isWeight ? ExpectedShape(.size(e), other) : ExpectedShape(.size(e)))
            } else {
                expect(r.name, ExpectedShape(other, .size(e)))
            }
        }
    }

    /// Every expert's tensors have expert 0's shapes and dtypes, compared by position (the outline lists each
    /// expert's tensors in the same order), so 90,000 expert tensors cost no name lookups.
    private mutating func expertsAlike(_ layer: MoELayer, _ experts: ModelOutline.ExpertTensors) {
        guard experts.experts > 1 else { return }
        let reference = experts.of(0).map(checkpoint.shapeAndType(at:))
        for e in 1..<experts.experts {
            for (position, expected) in zip(experts.of(e), reference) {
                let own = checkpoint.shapeAndType(at: position)
                guard !own.shape.elementsEqual(expected.shape) || own.dtype != expected.dtype else { continue }
                problems.append(MoESlimError(
                    .invalidTensor,
                    "MoE layer \(layer.layer): expert \(e) has \(own.dtype.rawValue) \(Array(own.shape)) where expert 0 has \(expected.dtype.rawValue) \(Array(expected.shape))",
                    path: checkpoint.path, tensor: checkpoint.names[position]))
            }
        }
    }

    /// Expert 0 (the others match it) or the fused tensors, as the engine spec's expert format lays them out.
    private mutating func experts(_ layer: MoELayer, spec: EngineSpec, moePrefix p: String) {
        let e = ExpectedShape.Dim.size(layer.numExperts), h = ExpectedShape.Dim.size(hidden)
        let width = spec.intermediate.experts
        /// I and 2·I of fused gate+up tensors, from the config or else from the tensor's `axis`.
        func widths(_ gateUp: String, axis: Int) -> (inter: ExpectedShape.Dim, pair: ExpectedShape.Dim) {
            if let width { return (.size(width), .size(2 * width)) }
            let inter = intermediate(checkpoint.info(gateUp)?.shape, axis: axis, rank: 3, halved: true)
            if case .size(let n) = inter { return (inter, .size(2 * n)) }
            return (inter, .even("2·intermediate"))
        }
        let format = spec.experts.resolved(for: layer.experts, shape: { checkpoint.info(p + $0).map { Array($0.shape) } }, hidden: hidden)
        switch (format, layer.experts) {
        case (.perExpert(let gate, let up, let down), .separate(let marker, _)):
            gatedMLP(gate: marker + "0." + gate, up: marker + "0." + up, down: marker + "0." + down, width: width)
        case (.fusedGateUp(let gateUp, let down), .fused):
            let (inter, pair) = widths(p + gateUp, axis: 1)
            expect(p + gateUp, ExpectedShape(e, width == nil ? .even("2·intermediate") : pair, h))
            expect(p + down, ExpectedShape(e, h, inter))
        case (.fusedGateUpInputMajor(let gateUp, let down), .fused):
            let (inter, pair) = widths(p + gateUp, axis: 2)
            expect(p + gateUp, ExpectedShape(e, h, width == nil ? .even("2·intermediate") : pair))
            expect(p + down, ExpectedShape(e, inter, h))
        case (.stacked(let gate, let up, let down), .fused):
            let inter = width.map(ExpectedShape.Dim.size) ?? intermediate(checkpoint.info(p + gate)?.shape, axis: 1, rank: 3)
            expect(p + gate, ExpectedShape(e, inter, h))
            expect(p + up, ExpectedShape(e, inter, h))
            expect(p + down, ExpectedShape(e, h, inter))
        case (.clampedSwiGLU(let gateUp, let gateUpBias, let down, let downBias, _, _), .fused):
            // MXFP4 experts (`_blocks` / `_scales`) are checked by their decoder, which knows their packing.
            let (inter, pair) = widths(p + gateUp, axis: 2)
            expect(p + gateUp, ExpectedShape(e, h, width == nil ? .even("2·intermediate") : pair))
            expect(p + gateUpBias, ExpectedShape(e, pair))
            expect(p + down, ExpectedShape(e, inter, h))
            expect(p + downBias, ExpectedShape(e, h))
        default:
            break
        }
        if let scale = spec.router.inputScale { expect(p + scale, ExpectedShape(h)) }
        if let scale = spec.router.expertScale { expect(p + scale, ExpectedShape(e)) }
        if let shared = spec.sharedExpert {
            gatedMLP(p + shared.mlp.prefix, shared.mlp, width: spec.intermediate.shared)
            if let gate = shared.gate { expect(p + gate, ExpectedShape(.size(1), h)) }
        }
    }
}
