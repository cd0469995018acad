import MoESlimSupport
import MoESlimFormats

/// What a GGUF's `general.architecture` and `{arch}.*` hyperparameters say, as the family-neutral
/// ModelDescription every command past the readers works on. llama.cpp names tensors the same way for every
/// architecture (`blk.<l>.ffn_gate_inp.weight`, stacked `ffn_*_exps`, `*_shexp`), so one reading serves all
/// of them; only the Hugging Face model_type, which makes counts from a safetensors calibration of the same
/// model match (its fingerprint), is looked up per architecture.
public enum GGUFArchitectures {
    /// llama.cpp architecture → transformers model_type. Mixtral is converted as `llama` with experts.
    static let modelTypes: [(arch: String, modelType: String)] = [
        ("llama", "mixtral"), ("qwen3moe", "qwen3_moe"), ("qwen2moe", "qwen2_moe"), ("olmoe", "olmoe"),
        ("phimoe", "phimoe"), ("granitemoe", "granitemoe"), ("glm4moe", "glm4_moe"), ("gpt-oss", "gpt_oss"),
        ("ernie4_5-moe", "ernie4_5_moe"), ("llama4", "llama4_text"), ("deepseek2", "deepseek_v3"),
    ]

    public static func describe(_ model: GGUFModel) throws(MoESlimError) -> ModelDescription {
        func fail(_ message: String, tensor: String? = nil) -> MoESlimError {
            MoESlimError(.invalidConfig, message, path: model.path, tensor: tensor)
        }
        guard let arch = model.architecture else { throw fail("has no general.architecture string") }
        func int(_ suffix: String, in range: ClosedRange<Int>, default value: Int? = nil) throws(MoESlimError) -> Int {
            guard let v = model.archInt(suffix) ?? value else { throw fail("has no integer \(arch).\(suffix)") }
            guard range.contains(v) else { throw fail("\(arch).\(suffix) is \(v), outside \(range.lowerBound)...\(range.upperBound)") }
            return v
        }
        let layers = try int("block_count", in: 0...10_000)
        let hidden = try int("embedding_length", in: 1...16_777_216)
        let heads = try int("attention.head_count", in: 0...16_777_216, default: 0)
        let kvHeads = try int("attention.head_count_kv", in: 0...16_777_216, default: heads)
        let headDim = try int("attention.key_length", in: 0...16_777_216, default: heads > 0 ? hidden / heads : 0)
        let valueDim = try int("attention.value_length", in: 0...16_777_216, default: headDim)
        guard let embed = model.tensor("token_embd.weight") else { throw fail("has no token_embd.weight tensor") }
        guard embed.info.dims.count == 2, embed.info.dims[0] == hidden else {
            throw fail("has shape \(embed.info.shape) but \(arch).embedding_length makes [<vocab>, \(hidden)]", tensor: "token_embd.weight")
        }
        let vocab = embed.info.dims[1]
        let expertCount = try int("expert_count", in: 0...65_536, default: 0)
        let topK = try int("expert_used_count", in: 0...65_536, default: 0)
        let groups = model.archInt("expert_group_count").flatMap { $0 > 1 ? $0 : nil }
        // A router or stacked experts in a block past block_count would be copied unpruned beside the new expert_count.
        for t in model.tensors where t.info.name.hasBytePrefix("blk.") {
            let parts = t.info.name.dropBytes(4).byteSplit(".")
            guard parts.count >= 2 else { continue }
            let kind = parts[1], digits = Array(parts[0].utf8)
            guard kind.sameBytes(as: "ffn_gate_inp") || kind.sameBytes(as: "exp_probs_b") || kind.hasByteSuffix("_exps") else { continue }
            let plain = (1...9).contains(digits.count) && (digits.count == 1 || digits[0] != UInt8(ascii: "0"))
                && digits.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            guard !plain || Int(parts[0])! >= layers else { continue }
            throw fail("is a router or stacked expert tensor of no block \(arch).block_count (\(layers)) gives", tensor: t.info.name)
        }
        var moeLayers: [MoELayer] = []
        for l in 0..<layers {
            let p = "blk.\(l)."
            guard model.tensor(p + "ffn_gate_inp.weight") != nil else {
                // Without a router the layer is dense, and prune would write expert_count for the layers that have one.
                if let stray = model.tensors.first(where: { $0.info.name.hasBytePrefix(p) && ($0.info.name.dropBytes(p.utf8.count).byteSplit(".").first ?? "").hasByteSuffix("_exps") }) {
                    throw fail("layer \(l) has stacked expert tensors but no router \(p)ffn_gate_inp.weight", tensor: stray.info.name)
                }
                continue
            }
            guard expertCount >= 1 else { throw fail("has a router in layer \(l) but \(arch).expert_count is \(expertCount)") }
            guard topK >= 1, topK <= expertCount else {
                throw fail("\(arch).expert_used_count is \(topK), outside 1...\(expertCount) (the expert count)")
            }
            var router: [SlicedTensor] = []
            var experts: [SlicedTensor] = []
            var shared: [String] = []
            for t in model.tensors where t.info.name.hasBytePrefix(p) {
                let kind = t.info.name.dropBytes(p.utf8.count).byteSplit(".").first ?? ""
                if kind.hasByteSuffix("_shexp") || kind.hasByteSuffix("_shexp_inp") {
                    shared.append(t.info.name)
                    continue
                }
                let isRouter = kind.sameBytes(as: "ffn_gate_inp") || kind.sameBytes(as: "exp_probs_b")
                guard isRouter || kind.hasByteSuffix("_exps") else { continue }
                guard t.info.dims.last == expertCount, t.info.dims.count >= 2 || isRouter else {
                    throw fail("MoE layer \(l): has \(t.info.dims.last ?? 0) experts on its outermost dimension (shape \(t.info.shape)) but \(arch).expert_count is \(expertCount)", tensor: t.info.name)
                }
                if isRouter { router.append(SlicedTensor(name: t.info.name, axis: 0)) } else { experts.append(SlicedTensor(name: t.info.name, axis: 0)) }
            }
            guard !experts.isEmpty else { throw fail("MoE layer \(l) has a router but no stacked *_exps expert tensors") }
            moeLayers.append(MoELayer(layer: l, numExperts: expertCount, topK: topK, router: router, experts: .fused(experts), shared: shared))
        }
        // Experts are chosen inside each group so the groups stay equal; groups that do not divide the experts leave
        // the last ones out of every group.
        if let groups, !moeLayers.isEmpty, expertCount % groups != 0 {
            throw fail("\(arch).expert_group_count is \(groups); it must be a positive divisor of the \(expertCount) experts (\(arch).expert_count)")
        }
        // The groups a token may choose from; a count outside 1...groups would ask the plan check for more groups
        // than there are (or overflow multiplying by it).
        let usedGroups = groups.flatMap { _ in model.archInt("expert_group_used_count") }
        if let groups, let usedGroups, !moeLayers.isEmpty, !(1...groups).contains(usedGroups) {
            throw fail("\(arch).expert_group_used_count is \(usedGroups), outside 1...\(groups) (\(arch).expert_group_count)")
        }
        let gating = model.archInt("expert_gating_func")
        let routing = RoutingRule(
            scoring: gating == 2 ? .sigmoid : .softmax,
            normalizeTopK: model.value("\(arch).expert_weights_norm").map { $0 == .bool(true) } ?? false,
            groups: groups, topkGroups: usedGroups,
            scalingFactor: { if case .float(_, let v)? = model.value("\(arch).expert_weights_scale") { return v } else { return 1 } }())
        var modelType = modelTypes.first { $0.arch.sameBytes(as: arch) }?.modelType ?? arch
        if arch.sameBytes(as: "deepseek2") && gating != 2 { modelType = "deepseek_v2" }
        let head = model.tensor("output.weight") == nil ? nil : "output.weight"
        return ModelDescription(
            modelType: modelType, numLayers: layers, hiddenSize: hidden, vocabSize: vocab,
            attention: AttentionShape(kind: .grouped, numHeads: heads, numKeyValueHeads: kvHeads, queryKeyHeadDim: headDim,
                                      valueHeadDim: valueDim, slidingWindow: nil, slidingLayers: []),
            tiedEmbeddings: head == nil, moeLayers: moeLayers,
            expertCountKey: "\(arch).expert_count", topKKey: "\(arch).expert_used_count", routing: routing,
            embedTensor: "token_embd.weight", lmHeadTensor: head, buffers: [], forwardPass: nil)
    }

    /// A description with only MoE layers and their expert counts, for counts that come without a model
    /// (`counts show imatrix.gguf`): enough for an ExpertCounts and its table.
    package static func countsOutline(modelType: String, experts: [(layer: Int, experts: Int)]) -> ModelDescription {
        ModelDescription(
            modelType: modelType, numLayers: (experts.last?.layer ?? -1) + 1, hiddenSize: 0, vocabSize: 0,
            attention: AttentionShape(kind: .grouped, numHeads: 0, numKeyValueHeads: 0, queryKeyHeadDim: 0, valueHeadDim: 0, slidingWindow: nil, slidingLayers: []),
            tiedEmbeddings: false,
            moeLayers: experts.map { MoELayer(layer: $0.layer, numExperts: $0.experts, topK: 1, router: [], experts: .fused([]), shared: []) },
            expertCountKey: "", topKKey: "", routing: RoutingRule(scoring: .softmax, normalizeTopK: false, groups: nil, topkGroups: nil, scalingFactor: 1),
            embedTensor: "", lmHeadTensor: nil, buffers: [], forwardPass: nil)
    }
}
