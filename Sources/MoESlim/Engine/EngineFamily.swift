import Foundation

/// A family the forward pass can run: it reads the extra config keys it needs and states them as an
/// `EngineSpec`. Families without a conformance are refused by calibrate rather than run approximately.
protocol EngineFamily: ModelFamily {
    associatedtype EngineConfig: Decodable
    static func engineSpec(_ config: EngineConfig) throws(MoESlimError) -> EngineSpec
}

public enum EngineFamilies {
    typealias Builder = @Sendable ([UInt8], String) throws(MoESlimError) -> EngineSpec

    static let all: [String: Builder] = {
        let families: [any EngineFamily.Type] = [
            MixtralFamily.self, Qwen2MoeFamily.self, Qwen3MoeFamily.self, OlmoeFamily.self, DeepseekFamily.self,
            Glm4MoeFamily.self, GptOssFamily.self, GraniteMoeFamily.self, Ernie45MoeFamily.self, PhimoeFamily.self,
            Llama4TextFamily.self,
        ]
        var table: [String: Builder] = [:]
        for family in families {
            for type in family.modelTypes { table[type] = builder(family) }
        }
        return table
    }()

    private static func builder<F: EngineFamily>(_ family: F.Type) -> Builder {
        { bytes, path throws(MoESlimError) in
            let config: F.EngineConfig
            do {
                config = try JSONDecoder().decode(F.EngineConfig.self, from: Data(bytes))
            } catch {
                throw MoESlimError(.invalidConfig, "config lacks what the forward pass needs: \(ConfigDecoding.explain(error))", path: path)
            }
            do throws(MoESlimError) {
                return try F.engineSpec(config)
            } catch {
                var located = error
                located.path = located.path ?? path
                throw located
            }
        }
    }

    public static var supportedModelTypes: [String] { all.keys.sorted() }

    /// The forward-pass spec for a described checkpoint, or a clear refusal for families it cannot run exactly.
    public static func spec(for checkpoint: Checkpoint, model: ModelDescription) throws(MoESlimError) -> EngineSpec {
        guard let build = all.first(where: { $0.key.sameBytes(as: model.modelType) })?.value else {
            throw MoESlimError(
                .unsupportedModel,
                "calibrate cannot run model_type '\(model.modelType)' yet (supported: \(supportedModelTypes.joined(separator: ", "))); counts from an approximate forward pass would be silently wrong",
                path: checkpoint.configPath)
        }
        return try build(try InputFile.read(checkpoint.configPath, as: .config), checkpoint.configPath)
    }
}
