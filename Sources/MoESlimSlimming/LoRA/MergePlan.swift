import MoESlimSupport
import MoESlimFormats
import MoESlimFamilies

/// Which stored tensors each adapter changes and how, decided before anything is written so that every
/// refusal (a tensor that maps to nothing, a rank or shape that disagrees) happens with the output untouched.
public struct MergePlan: Sendable {
    public struct AdapterSource: Sendable {
        public var path: String
        public var weight: Double
        public init(path: String, weight: Double = 1) {
            self.path = path
            self.weight = weight
        }
    }

    /// What one adapter did, for the report printed after a merge.
    public struct Summary: Sendable {
        public var path: String
        public var modules: [String]
        public var tensors: Set<ByteName>
        public var replaced: [String]
    }

    /// Keyed by the tensor's bytes, as every name from a file (ByteName).
    var edits: [ByteName: [PlannedEdit]]
    /// Shapes that a replacement changed (a resized embedding or lm_head).
    var shapes: [ByteName: [Int]]
    public var summaries: [Summary]

    public var changedTensors: Set<ByteName> { Set(edits.keys) }

    /// A base of a known family is described first, so a config or tensor shape it contradicts is refused
    /// before any delta is computed; other architectures are merged by name and shape alone.
    public init(checkpoint: Checkpoint, adapters: [AdapterSource], adapterName: String? = nil) throws(MoESlimError) {
        let modelType = checkpoint.config?["model_type"]?.stringValue
        if let modelType, ModelFamilies.knownModelTypes.contains(where: { $0.sameBytes(as: modelType) }) { _ = try ModelFamilies.outline(checkpoint) }
        let names = ModelFamilies.adapterNames(forModelType: modelType)
        var builder = Builder(checkpoint: checkpoint, names: names)
        for source in adapters {
            let folder = try AdapterFolder(path: source.path, adapterName: adapterName)
            try builder.add(folder, weight: source.weight)
        }
        edits = builder.edits
        shapes = builder.shapes
        summaries = builder.summaries
    }

    public func outputShape(of name: String, stored: [Int]) -> [Int] { shapes[ByteName(name)] ?? stored }
}

private struct Builder {
    let checkpoint: Checkpoint
    let names: AdapterNameMap
    var edits: [ByteName: [PlannedEdit]] = [:]
    var shapes: [ByteName: [Int]] = [:]
    var summaries: [MergePlan.Summary] = []

    init(checkpoint: Checkpoint, names: AdapterNameMap) {
        self.checkpoint = checkpoint
        self.names = names
    }

    func shape(_ tensor: String) -> [Int] { shapes[ByteName(tensor)] ?? checkpoint.info(tensor)?.shape ?? [] }

    mutating func add(_ adapter: AdapterFolder, weight: Double) throws(MoESlimError) {
        var summary = MergePlan.Summary(path: adapter.path, modules: [], tensors: [], replaced: [])
        var touched = Set<ByteName>()
        for replacement in adapter.replacements {
            let tensor = try replace(replacement, adapter: adapter)
            summary.replaced.append(tensor)
            summary.tensors.insert(ByteName(tensor))
        }
        var changes = !adapter.replacements.isEmpty
        for factors in adapter.factors {
            let result = try merge(factors, adapter: adapter, weight: weight)
            guard touched.insert(ByteName(result.key)).inserted else {
                throw fail(adapter, "module '\(result.key)' is adapted twice", tensor: factors.a?.key)
            }
            summary.modules.append(result.key)
            summary.tensors.formUnion(result.tensors.map { ByteName($0) })
            changes = changes || result.changes
        }
        guard changes else {
            throw fail(adapter, "the adapter changes nothing: every lora_B is zero (PEFT's initial value; was it trained?)")
        }
        summaries.append(summary)
    }

    private func fail(_ adapter: AdapterFolder, _ message: String, tensor: String? = nil) -> MoESlimError {
        MoESlimError(.invalidAdapter, message, path: adapter.path, tensor: tensor)
    }

    private mutating func record(_ tensor: String, _ edit: TensorEdit, slice: Int? = nil) {
        edits[ByteName(tensor), default: []].append(PlannedEdit(slice: slice, edit: edit))
    }

    private mutating func replace(_ r: AdapterFolder.Replacement, adapter: AdapterFolder) throws(MoESlimError) -> String {
        let saved = adapter.config.modulesToSave.contains { PythonRegex.prefixMatch("(^|.*\\.)\($0)($|\\..*)", r.module) }
        guard saved || r.isBaseLayer else {
            throw fail(adapter, "a whole tensor for '\(r.module)', which is neither in modules_to_save nor a saved base layer; PEFT would ignore it", tensor: r.tensor.key)
        }
        let trainingName = r.module + "." + r.parameter
        guard let target = ParameterTarget.resolve(trainingName, in: checkpoint, names: names), case .tensor(let tensor) = target.storage else {
            throw fail(adapter, "'\(trainingName)' is not a tensor of the checkpoint", tensor: r.tensor.key)
        }
        let current = shape(tensor)
        if r.tensor.shape != current {
            let resizable = current.count == 2 && r.tensor.shape.count == 2 && current[1] == r.tensor.shape[1]
                && (tensor.hasByteSuffix("embed_tokens.weight") || tensor.hasByteSuffix("lm_head.weight"))
            guard resizable else {
                throw fail(adapter, "replacement has shape \(r.tensor.shape) but '\(tensor)' is \(current)", tensor: r.tensor.key)
            }
            shapes[ByteName(tensor)] = r.tensor.shape
        }
        record(tensor, .replace(r.tensor))
        return tensor
    }

    private struct Merged {
        var key: String
        var tensors: [String]
        var changes: Bool
    }

    private mutating func merge(
        _ f: AdapterFolder.Factors, adapter: AdapterFolder, weight: Double
    ) throws(MoESlimError) -> Merged {
        let config = adapter.config
        if let embeddingA = f.embeddingA, let embeddingB = f.embeddingB {
            guard f.a == nil, f.b == nil, f.magnitude == nil, f.bBias == nil else {
                throw fail(adapter, "module '\(f.module)' mixes embedding and linear factors", tensor: embeddingA.key)
            }
            return try mergeEmbedding(f.module, a: embeddingA, b: embeddingB, adapter: adapter, weight: weight)
        }
        guard let a = f.a, let b = f.b else {
            let any = f.a ?? f.b ?? f.embeddingA ?? f.embeddingB ?? f.magnitude ?? f.bBias
            throw fail(adapter, "module '\(f.module)' lacks its \(f.a == nil ? "lora_A" : "lora_B") factor", tensor: any?.key)
        }
        guard a.shape.count == 2, b.shape.count == 2, a.shape[0] == b.shape[1] else {
            throw fail(adapter, "lora_A \(a.shape) and lora_B \(b.shape) do not multiply", tensor: a.key)
        }
        let targeted = Set(config.targetParameters.map { ByteName($0.byteSplit(".").last ?? "") })
            .map { f.module + "." + $0.string }.filter(config.targets(parameter:)).sorted { $0.utf8Precedes($1) }
        // PEFT wraps only the parameters a module has: a bare target such as `down_proj` (PEFT writes those when it
        // converts transformers 4 names) also suffix-matches `self_attn.q_proj.down_proj`, which no model has.
        let present = targeted.compactMap { name in ParameterTarget.resolve(name, in: checkpoint, names: names).map { (name, $0) } }
        if !present.isEmpty {
            return try mergeParameter(f, a: a, b: b, candidates: present, adapter: adapter, weight: weight)
        }
        guard config.targets(module: f.module) else {
            if let first = targeted.first {
                throw fail(adapter, "target_parameters selects '\(first)', which the checkpoint lacks (looked for '\(names.diskName(first))' and per-expert tensors)", tensor: a.key)
            }
            throw fail(adapter, "module '\(f.module)' is not matched by target_modules/target_parameters of adapter_config.json; PEFT would ignore these tensors", tensor: a.key)
        }
        return try mergeLinear(f, a: a, b: b, adapter: adapter, weight: weight)
    }

    /// The rows lora_A must have: rank × experts, checked, since a rank from a hostile adapter_config.json can be
    /// chosen so that the product wraps to the row count of a valid-looking factor.
    private func factorRows(_ key: String, rank: Int, experts: Int, adapter: AdapterFolder) throws(MoESlimError) -> Int {
        let (rows, overflow) = rank.multipliedReportingOverflow(by: experts)
        guard !overflow else {
            throw fail(adapter, "'\(key)' has rank \(rank) by adapter_config.json (r, rank_pattern), and \(rank) × \(experts) experts overflows")
        }
        return rows
    }

    private func resolveRank(_ key: String, a: AdapterFolder.Tensor, experts: Int, adapter: AdapterFolder, weight: Double) throws(MoESlimError) -> Float {
        let (rank, scale) = adapter.config.scale(for: key)
        guard try a.shape[0] == factorRows(key, rank: rank, experts: experts, adapter: adapter) else {
            let expected = experts == 1 ? "\(rank)" : "\(rank) × \(experts) experts"
            throw fail(adapter, "'\(key)' has rank \(rank) by adapter_config.json (r, rank_pattern) but lora_A has \(a.shape[0]) rows, not \(expected)", tensor: a.key)
        }
        // PEFT multiplies by the same overflowing scale and saves infinities; a published checkpoint of them is
        // never what was meant.
        guard Float(scale * weight).isFinite else {
            throw fail(adapter, "'\(key)' has scaling \(scale * weight) (lora_alpha, alpha_pattern over r), beyond Float32: every merged weight would be infinite", tensor: a.key)
        }
        return Float(scale * weight)
    }

    private func isNonZero(_ tensor: AdapterFolder.Tensor) -> Bool { tensor.floats().contains { $0 != 0 } }

    private mutating func mergeLinear(
        _ f: AdapterFolder.Factors, a: AdapterFolder.Tensor, b: AdapterFolder.Tensor, adapter: AdapterFolder, weight: Double
    ) throws(MoESlimError) -> Merged {
        let config = adapter.config
        guard f.depth == 0 else { throw fail(adapter, "unexpected base_layer nesting on '\(f.module)'", tensor: a.key) }
        guard let target = ParameterTarget.resolve(f.module + ".weight", in: checkpoint, names: names), case .tensor(let tensor) = target.storage else {
            throw fail(adapter, "module '\(f.module)' has no weight tensor in the checkpoint (looked for '\(f.module).weight' and '\(names.diskName(f.module + ".weight"))')", tensor: a.key)
        }
        let scale = try resolveRank(f.module, a: a, experts: 1, adapter: adapter, weight: weight)
        let stored = shape(tensor)
        let out = b.shape[0], inF = a.shape[1]
        let transposed: Bool
        if stored == [out, inF] {
            transposed = false
        } else if config.fanInFanOut && stored == [inF, out] {
            transposed = true
        } else {
            throw fail(adapter, "'\(tensor)' is \(stored) but the adapter's factors give \([out, inF])", tensor: a.key)
        }
        let delta = LowRankDelta(a: a, b: b, aRows: 0..<a.shape[0], bColumns: Array(0..<a.shape[0]), bRows: 0..<out, scale: scale, transposed: transposed)
        var tensors = [tensor]
        if let magnitude = f.magnitude {
            guard config.useDora else { throw fail(adapter, "a DoRA magnitude vector but use_dora is false", tensor: magnitude.key) }
            guard weight == 1 else { throw fail(adapter, "a DoRA adapter cannot be merged with a weight other than 1", tensor: magnitude.key) }
            guard magnitude.shape == [out] else { throw fail(adapter, "magnitude has shape \(magnitude.shape), expected [\(out)]", tensor: magnitude.key) }
            record(tensor, .dora(delta, magnitude: magnitude))
        } else {
            guard !config.useDora else { throw fail(adapter, "use_dora is set but '\(f.module)' has no lora_magnitude_vector", tensor: a.key) }
            record(tensor, .add(delta, deltaRoundedFirst: false))
        }
        if let bias = f.bBias {
            let biasTensor = tensor.dropLastBytes("weight".utf8.count) + "bias"
            guard checkpoint.contains(biasTensor) else {
                throw fail(adapter, "lora_bias needs '\(biasTensor)', which the checkpoint lacks (PEFT refuses to merge this too)", tensor: bias.key)
            }
            guard bias.shape == [out], shape(biasTensor) == [out] else { throw fail(adapter, "lora_B bias shape \(bias.shape) does not match '\(biasTensor)'", tensor: bias.key) }
            record(biasTensor, .addBias(bias, scale: scale))
            tensors.append(biasTensor)
        }
        return Merged(key: f.module, tensors: tensors, changes: isNonZero(b) || f.magnitude != nil || f.bBias.map(isNonZero) == true)
    }

    private mutating func mergeEmbedding(
        _ module: String, a: AdapterFolder.Tensor, b: AdapterFolder.Tensor, adapter: AdapterFolder, weight: Double
    ) throws(MoESlimError) -> Merged {
        guard let target = ParameterTarget.resolve(module + ".weight", in: checkpoint, names: names), case .tensor(let tensor) = target.storage else {
            throw fail(adapter, "embedding '\(module)' has no weight tensor in the checkpoint", tensor: a.key)
        }
        guard adapter.config.targets(module: module) else {
            throw fail(adapter, "module '\(module)' is not matched by target_modules; PEFT would ignore these tensors", tensor: a.key)
        }
        guard !adapter.config.useDora else { throw fail(adapter, "DoRA on embeddings is not supported", tensor: a.key) }
        guard a.shape.count == 2, b.shape.count == 2, a.shape[0] == b.shape[1] else {
            throw fail(adapter, "lora_embedding_A \(a.shape) and lora_embedding_B \(b.shape) do not multiply", tensor: a.key)
        }
        let scale = try resolveRank(module, a: a, experts: 1, adapter: adapter, weight: weight)
        guard shape(tensor) == [a.shape[1], b.shape[0]] else {
            throw fail(adapter, "'\(tensor)' is \(shape(tensor)) but the embedding factors give \([a.shape[1], b.shape[0]])", tensor: a.key)
        }
        let delta = LowRankDelta(a: a, b: b, aRows: 0..<a.shape[0], bColumns: Array(0..<a.shape[0]), bRows: 0..<b.shape[0], scale: scale, transposed: true)
        record(tensor, .add(delta, deltaRoundedFirst: true))
        return Merged(key: module, tensors: [tensor], changes: isNonZero(b))
    }

    /// target_parameters: PEFT nests one ParamWrapper per targeted parameter of a module, so the wrapper depth
    /// does not name the parameter; the factor shapes do (in and out features differ between the candidates).
    private mutating func mergeParameter(
        _ f: AdapterFolder.Factors, a: AdapterFolder.Tensor, b: AdapterFolder.Tensor, candidates: [(String, ParameterTarget)],
        adapter: AdapterFolder, weight: Double
    ) throws(MoESlimError) -> Merged {
        for extra in [f.magnitude, f.bBias, f.embeddingA, f.embeddingB].compactMap({ $0 }) {
            throw fail(adapter, "target_parameters adapters cannot have this tensor (PEFT refuses DoRA, lora_bias and embeddings there)", tensor: extra.key)
        }
        var matches: [(String, ParameterTarget)] = []
        for (name, target) in candidates {
            let rows = try factorRows(name, rank: adapter.config.scale(for: name).rank, experts: target.experts, adapter: adapter)
            if a.shape == [rows, target.inFeatures] && b.shape == [target.outFeatures, rows] { matches.append((name, target)) }
        }
        guard matches.count == 1, let (name, target) = matches.first else {
            let what = matches.isEmpty ? "no targeted parameter of '\(f.module)' (\(candidates.map(\.0).joined(separator: ", "))) has a shape matching lora_A \(a.shape) and lora_B \(b.shape)"
                : "lora_A \(a.shape) and lora_B \(b.shape) fit several parameters of '\(f.module)': \(matches.map(\.0).joined(separator: ", "))"
            throw fail(adapter, what, tensor: a.key)
        }
        let scale = try resolveRank(name, a: a, experts: target.experts, adapter: adapter, weight: weight)
        let rank = a.shape[0] / target.experts
        var tensors: [String] = []
        for e in 0..<target.experts {
            let aRows = (e * rank)..<((e + 1) * rank)
            let columns = (0..<rank).map { $0 * target.experts + e }
            func delta(_ rows: Range<Int>, transposed: Bool) -> LowRankDelta {
                LowRankDelta(a: a, b: b, aRows: target.experts == 1 ? 0..<rank : aRows, bColumns: target.experts == 1 ? Array(0..<rank) : columns,
                             bRows: rows, scale: scale, transposed: transposed)
            }
            switch target.storage {
            case .tensor(let tensor):
                record(tensor, .add(delta(0..<target.outFeatures, transposed: target.expertsTransposed), deltaRoundedFirst: true), slice: target.experts == 1 && shape(tensor).count == 2 ? nil : e)
                if e == 0 { tensors.append(tensor) }
            case .perExpert(let parts, let rows):
                var offset = 0
                for (k, tensor) in parts[e].enumerated() {
                    record(tensor, .add(delta(offset..<(offset + rows[k]), transposed: false), deltaRoundedFirst: true))
                    offset += rows[k]
                    tensors.append(tensor)
                }
            }
        }
        return Merged(key: name, tensors: tensors, changes: isNonZero(b))
    }
}
