import Foundation
import MoESlimSupport
import MoESlimFormats

/// What one family file says: its one decoded config, where its MoE tensors live, and (for an `EngineFamily`)
/// how its forward pass runs. Everything else (discovery of per-expert vs fused storage, validation against the
/// tensors) is shared in `FamilyLayout.outline`. Each family is one line in `FamilyRegistry`.
public protocol ModelFamily: Sendable {
    /// The whole config.json as this family reads it, decoded once per command.
    associatedtype Config: Decodable & Sendable
    static var modelTypes: [String] { get }
    static func layout(_ config: Config) throws(MoESlimError) -> FamilyLayout
    /// How the names an adapter was trained on (transformers 5) lead back to this family's tensors on disk.
    static var adapterNames: AdapterNameMap { get }
    /// The forward pass built from the decoded config, or nil for a family that has none yet.
    static func forwardPass(_ config: Config, path: String) -> ForwardPassRecipe?
    /// The integer keys this family reads beyond the shared ones, bounded before it decodes them.
    static var configBounds: ConfigBounds { get }
    /// The config.json object the family's `Config` is decoded from when the config has it (a vision-language
    /// wrapper's "text_config"); nil for the top level.
    static var configSection: String? { get }
}

extension ModelFamily {
    /// A family that is not an `EngineFamily` has no forward pass: calibrate, eval and sweep refuse it by name.
    static func forwardPass(_ config: Config, path: String) -> ForwardPassRecipe? { nil }

    static var configBounds: ConfigBounds { ConfigBounds() }

    static var configSection: String? { nil }
}

/// The family's answers, still in the family's terms (prefixes and relative names).
public struct FamilyLayout {
    public var numLayers: Int
    public var hiddenSize: Int
    public var vocabSize: Int
    public var attention: AttentionShape
    public var tiedEmbeddings: Bool
    public var expertCountKey: String
    public var topKKey: String
    public var numExperts: Int
    public var topK: Int
    public var routing: RoutingRule
    /// Which layers are MoE.
    public var moeLayers: [Int]
    /// The family's name table, the same one its forward pass reads.
    var names: TensorNames
    /// Router tensors relative to the MoE prefix, with their expert axis; missing optional ones are skipped.
    public var router: [(name: String, axis: Int, required: Bool)]
    /// Tensors relative to the MoE prefix that are fused experts without an `experts.` folder (granitemoe).
    public var fusedExpertNames: [String] = []
    /// Tensors relative to the MoE prefix that are registered buffers, not parameters (transformers does not
    /// count them), such as DeepSeek-V3's e_score_correction_bias.
    public var buffers: [String] = []
    /// The multi-token-prediction block: the prefix of its tensors and the config key that counts its layers.
    public var multiTokenPrediction: (prefixes: [String], configKey: String)?
    /// Identity experts without weights that the router also scores (LongCat-Flash's zero_expert_num): how many
    /// every MoE layer has, after the `numExperts - count` experts with weights, and the config key that says so.
    public var zeroComputeExperts: (count: Int, configKey: String)?

    /// "model.layers.3.mlp." for layer 3.
    func moePrefix(_ layer: Int) -> String { names.moeBlock(layer) }
    /// "experts." relative to the MoE prefix: numbered children are per-expert, other tensors fused on axis 0.
    var expertsPath: String { names[.experts] }
    /// Prefixes relative to the MoE prefix of shared experts and shared gates.
    var sharedPaths: [String] { [names.name(.sharedExperts), names.name(.sharedExpertGate)].compactMap { $0 } }
    var embedTensor: String { names[.tokenEmbedding] }
    var lmHeadTensor: String { names[.lmHead] }
}

public enum ModelFamilies {
    /// Registry keyed by config.json's model_type, as in mlx-swift-lm.
    typealias Builder = @Sendable (JSONValue, Checkpoint) throws -> ModelOutline

    static let all: [String: Builder] = {
        var table: [String: Builder] = [:]
        for family in FamilyRegistry.families {
            for type in family.modelTypes { table[type] = builder(family, modelType: type) }
        }
        return table
    }()

    private static func builder<F: ModelFamily>(_ family: F.Type, modelType: String) -> Builder {
        { whole, checkpoint in
            let section = F.configSection.flatMap { key in whole[key].map { (key, $0) } }
            if let (key, value) = section, value.objectMembers == nil {
                throw MoESlimError(.invalidConfig, "\(key) is not an object", path: checkpoint.configPath)
            }
            let json = section?.1 ?? whole
            try ConfigLimits.check(json, path: checkpoint.configPath, family: F.configBounds)
            try ConfigValues.check(json, path: checkpoint.configPath, family: F.configBounds)
            let config: F.Config
            do {
                config = try F.Config(from: JSONValueDecoder(json))
            } catch {
                throw MoESlimError(.invalidConfig, "does not read as a \(modelType) config: \(ConfigDecoding.explain(error))", path: checkpoint.configPath)
            }
            var layout: FamilyLayout
            do throws(MoESlimError) {
                layout = try F.layout(config)
            } catch {
                var located = error
                located.path = located.path ?? checkpoint.configPath
                throw located
            }
            // A wrapper ties its lm_head by its own tie_word_embeddings (transformers reads the top-level config),
            // which can differ from the one in its text section.
            if section != nil, let value = whole["tie_word_embeddings"], value != .null {
                guard let tied = value.boolValue else {
                    throw MoESlimError(.invalidConfig, "does not read as a \(modelType) config: wrong type for 'tie_word_embeddings'", path: checkpoint.configPath)
                }
                layout.tiedEmbeddings = tied
            }
            var outline = try layout.outline(modelType: modelType, config: whole, checkpoint: checkpoint)
            outline.model.forwardPass = F.forwardPass(config, path: checkpoint.configPath)
            outline.model.configSection = section?.0
            return outline
        }
    }

    public static var knownModelTypes: [String] { all.keys.sorted() }

    /// An unknown or missing model_type keeps the adapter's names as they are: merge-lora folds adapters into
    /// models of any architecture.
    public static func adapterNames(forModelType modelType: String?) -> AdapterNameMap {
        FamilyRegistry.family(forModelType: modelType ?? "")?.adapterNames ?? .identity
    }

    /// Maps a checkpoint to its neutral description, or says which model types are known.
    public static func describe(_ checkpoint: Checkpoint) throws(MoESlimError) -> ModelDescription {
        try outline(checkpoint).description(of: checkpoint)
    }

    /// The same checks and findings, the expert tensors left as positions (what report and inspect need).
    /// A tensor of the wrong shape stops here, before any command reads one.
    package static func outline(_ checkpoint: Checkpoint) throws(MoESlimError) -> ModelOutline {
        let outline = try unshapedOutline(checkpoint)
        if let first = ModelShapes.problems(outline, in: checkpoint).first { throw first }
        return outline
    }

    /// For verify, which lists every shape problem instead of stopping at the first.
    package static func describeWithShapeProblems(_ checkpoint: Checkpoint) throws(MoESlimError) -> (ModelDescription, [MoESlimError]) {
        let outline = try unshapedOutline(checkpoint)
        return (outline.description(of: checkpoint), ModelShapes.problems(outline, in: checkpoint))
    }

    /// The config checked and the tensors found, shapes not yet checked.
    private static func unshapedOutline(_ checkpoint: Checkpoint) throws(MoESlimError) -> ModelOutline {
        let config = try checkpoint.requireConfig()
        guard let modelType = config["model_type"]?.stringValue else {
            throw MoESlimError(.invalidConfig, "config.json has no model_type", path: checkpoint.configPath)
        }
        guard let build = all.first(where: { $0.key.sameBytes(as: modelType) })?.value else {
            throw MoESlimError(.unsupportedModel, "model_type '\(modelType)' is not supported; known: \(knownModelTypes.joined(separator: ", "))", path: checkpoint.configPath)
        }
        do {
            return try build(config, checkpoint)
        } catch let error as MoESlimError {
            throw error
        } catch {
            throw MoESlimError(.invalidConfig, "\(error)", path: checkpoint.configPath)
        }
    }
}

enum ConfigDecoding {
    static func explain(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing key '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let ctx), DecodingError.valueNotFound(_, let ctx):
            return "wrong type for '\(ctx.codingPath.map(\.stringValue).joined(separator: "."))'"
        case DecodingError.dataCorrupted(let ctx): return ctx.debugDescription
        default: return "\(error)"
        }
    }
}
