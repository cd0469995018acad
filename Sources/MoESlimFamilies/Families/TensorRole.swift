/// One tensor's job in a decoder-only MoE checkpoint, after llama.cpp's tensor enum (llama-arch.cpp): code past
/// the family files asks a family's `TensorNames` for a role and never spells a tensor name itself. Each role
/// says what its name is relative to; most families keep transformers' Llama-style names, so a family file
/// lists only the roles it names differently.
package enum TensorRole: Sendable, Hashable, CaseIterable {
    /// Whole-model tensors, full names.
    case tokenEmbedding, finalNorm, lmHead, lmHeadBias
    /// Norm modules relative to a layer's prefix (their .weight, and .bias for LayerNorm).
    case attentionNorm, mlpNorm
    /// Norms of the attention's and the MLP's outputs before they join the residual stream (AFMoE's sandwich
    /// norms), relative to a layer's prefix; most families have none.
    case attentionOutputNorm, mlpOutputNorm
    /// The attention module relative to a layer's prefix.
    case attention
    /// Projection and norm modules relative to the attention module (their .weight and optional .bias).
    case query, key, value, output, queryNorm, keyNorm
    /// gpt_oss's per-head attention sinks, relative to the attention module.
    case sinks
    /// The attention output gate's own projection, relative to the attention module: AFMoE's (one gate per query
    /// element) and Step's g_proj (one per query head).
    case attentionGate
    /// Multi-head latent attention modules relative to the attention module.
    case queryDown, queryDownNorm, queryUp, keyValueDown, keyValueDownNorm, keyValueUp
    /// The MoE block relative to a layer's prefix, and the dense MLP of the other layers.
    case moeBlock, denseMLP
    /// Router tensors relative to the MoE block.
    case router, routerBias, routerCorrectionBias
    /// The experts' folder relative to the MoE block: numbered children are per-expert, others fused.
    case experts
    /// One expert's (or any gated MLP's) tensors relative to it.
    case gate, up, down
    /// Fused expert tensors relative to the MoE block, with the expert on axis 0.
    case fusedGateUp, fusedGateUpBias, fusedDown, fusedDownBias
    /// Shared experts' folder and their sigmoid gate's folder, relative to the MoE block.
    case sharedExperts, sharedExpertGate
    /// Gated DeltaNet linear attention (Qwen3-Next, Qwen3.5): the module relative to a layer's prefix, and its
    /// tensors relative to it. Qwen3-Next stores the input projections as two per-key-head interleaved Linears
    /// (qkvz, ba); Qwen3.5 as four plain ones (qkv, z, b, a).
    case linearAttention
    case linearQKVZ, linearBA, linearQKV, linearZ, linearB, linearA
    case linearConv, linearTimeStepBias, linearDecayLog, linearNorm, linearOutput
    /// LFM2's gated short convolution: the module relative to a layer's prefix, and its input projection,
    /// depthwise Conv1d and output projection modules relative to it (their .weight and optional .bias).
    case shortConvolution, shortConvolutionInput, shortConvolutionKernel, shortConvolutionOutput
    /// Multi-token-prediction tensors (`mtp.`): a prefix of whole-model names.
    case multiTokenPrediction
    /// Gemma 4's router extras, relative to the MoE block: the vector its normalised input is multiplied by
    /// (`router.scale`), and the per-expert factor on the chosen weights (`router.per_expert_scale`).
    case routerInputScale, routerExpertScale
    /// A layer whose dense MLP runs beside the routed experts (Gemma 4), relative to a layer's prefix: the norm of
    /// the dense MLP's output, and the routed experts' input and output norms.
    case denseMLPOutputNorm, expertsInputNorm, expertsOutputNorm
    /// A one-element buffer, relative to a layer's prefix, multiplying the residual stream after the layer
    /// (Gemma 4's layer_scalar).
    case layerScale

    /// transformers' Llama-style name; nil for roles most families do not have.
    var standardName: String? {
        switch self {
        case .tokenEmbedding: return "model.embed_tokens.weight"
        case .finalNorm: return "model.norm"
        case .lmHead: return "lm_head.weight"
        case .lmHeadBias: return "lm_head.bias"
        case .attentionNorm: return "input_layernorm"
        case .mlpNorm: return "post_attention_layernorm"
        case .attention: return "self_attn."
        case .query: return "q_proj"
        case .key: return "k_proj"
        case .value: return "v_proj"
        case .output: return "o_proj"
        case .queryNorm: return "q_norm"
        case .keyNorm: return "k_norm"
        case .sinks: return "sinks"
        case .queryDown: return "q_a_proj"
        case .queryDownNorm: return "q_a_layernorm"
        case .queryUp: return "q_b_proj"
        case .keyValueDown: return "kv_a_proj_with_mqa"
        case .keyValueDownNorm: return "kv_a_layernorm"
        case .keyValueUp: return "kv_b_proj"
        case .moeBlock, .denseMLP: return "mlp."
        case .router: return "gate.weight"
        case .experts: return "experts."
        case .gate: return "gate_proj.weight"
        case .up: return "up_proj.weight"
        case .down: return "down_proj.weight"
        case .fusedGateUp: return "experts.gate_up_proj"
        case .fusedGateUpBias: return "experts.gate_up_proj_bias"
        case .fusedDown: return "experts.down_proj"
        case .fusedDownBias: return "experts.down_proj_bias"
        case .routerBias, .routerCorrectionBias, .sharedExperts, .sharedExpertGate, .attentionOutputNorm, .mlpOutputNorm,
             .attentionGate:
            return nil
        case .linearAttention, .linearQKVZ, .linearBA, .linearQKV, .linearZ, .linearB, .linearA, .linearConv,
             .linearTimeStepBias, .linearDecayLog, .linearNorm, .linearOutput, .multiTokenPrediction, .shortConvolution,
             .shortConvolutionInput, .shortConvolutionKernel, .shortConvolutionOutput, .routerInputScale, .routerExpertScale,
             .denseMLPOutputNorm, .expertsInputNorm, .expertsOutputNorm, .layerScale:
            return nil
        }
    }
}

/// A family's name table: the standard names with the family's own where they differ.
package struct TensorNames: Sendable {
    private var own: [TensorRole: String]
    /// Roles the family has none of even though they have a standard name.
    private var absent: Set<TensorRole>
    /// Where decoder layer L's tensors are: "<layersPrefix><L>.".
    package let layersPrefix: String

    /// Most families keep every decoder layer under "model.layers.<L>.".
    package static let standardLayersPrefix = "model.layers."

    /// Vision-language wrappers (qwen3_5_moe) keep the language model under another prefix, which `layersPrefix`
    /// and the whole-model roles then spell.
    package init(_ own: [TensorRole: String] = [:], absent: Set<TensorRole> = [], layersPrefix: String = standardLayersPrefix) {
        self.own = own
        self.absent = absent
        self.layersPrefix = layersPrefix
    }

    /// The same table without `role`, for a config that leaves an optional tensor out (LFM2's expert_bias when
    /// use_expert_bias is false, which transformers then neither builds nor loads).
    package func without(_ role: TensorRole) -> TensorNames {
        var copy = self
        copy.absent.insert(role)
        return copy
    }

    /// The role's name, or nil when this family has no such tensor.
    package func name(_ role: TensorRole) -> String? {
        absent.contains(role) ? nil : own[role] ?? role.standardName
    }

    /// A role every family has (`standardName` is not nil and it is not absent).
    package subscript(role: TensorRole) -> String { name(role) ?? "" }

    package func layer(_ index: Int) -> String { "\(layersPrefix)\(index)." }

    /// The same table with some roles named otherwise: one sublayer's names in a layer that has several
    /// (LongCat-Flash's `self_attn.0.`, `self_attn.1.`).
    package func replacing(_ changes: [TensorRole: String]) -> TensorNames {
        var copy = self
        copy.own.merge(changes) { $1 }
        return copy
    }

    /// "model.layers.3.mlp." for layer 3.
    func moeBlock(_ layer: Int) -> String { self.layer(layer) + self[.moeBlock] }

    /// The gated MLP names under a folder relative to the layer (dense MLP) or the MoE block (shared experts).
    package func gatedMLP(prefix: String) -> GatedMLPNames {
        GatedMLPNames(prefix: prefix, gate: self[.gate], up: self[.up], down: self[.down])
    }
}
