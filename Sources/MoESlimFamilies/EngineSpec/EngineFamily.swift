import Foundation
import MoESlimSupport
import MoESlimFormats

/// A family the forward pass can run: from the same decoded config its layout reads, it states the forward pass
/// as an `EngineSpec`. Families that are not `EngineFamily` are refused by calibrate rather than run
/// approximately; they still support inspect, report, verify, prune and merge-lora.
protocol EngineFamily: ModelFamily where Config: EngineConfigured {
    static func engineSpec(_ config: Config) throws(MoESlimError) -> EngineSpec
}

/// A family config that holds the keys every forward pass reads.
protocol EngineConfigured {
    var engine: EngineDims { get set }
}

extension EngineFamily {
    static func forwardPass(_ config: Config, path: String) -> ForwardPassRecipe? {
        ForwardPassRecipe(
            spec: { () throws(MoESlimError) -> EngineSpec in
                do throws(MoESlimError) {
                    return try engineSpec(config)
                } catch {
                    var located = error
                    located.path = located.path ?? path
                    throw located
                }
            },
            shapeSpec: {
                var shapes = config
                shapes.engine = config.engine.forShapes
                return try? engineSpec(shapes)
            })
    }
}

/// A family's forward pass, kept with the description it was decoded with, so config.json is decoded once.
public struct ForwardPassRecipe: Sendable {
    /// The spec calibrate, eval and sweep run, or the family's refusal of this config.
    let spec: @Sendable () throws(MoESlimError) -> EngineSpec
    /// The spec the shape check reads tensor names and widths from. The activation and the rotary scaling change
    /// the forward pass's arithmetic, never a tensor's shape, and calibrate refuses the ones it does not
    /// implement; here they are set to ones it does, so a model calibrate cannot run (a gelu activation, dynamic
    /// rope) still has every tensor checked before prune or merge-lora writes it. Nil when the family refuses the
    /// config on other grounds: then only the description's tensors are checked.
    let shapeSpec: @Sendable () -> EngineSpec?
}

public enum EngineFamilies {
    typealias Builder = @Sendable ([UInt8], String) throws(MoESlimError) -> EngineSpec

    /// The registry's families that have a forward pass.
    private static var engineFamilies: [any EngineFamily.Type] {
        FamilyRegistry.families.compactMap { $0 as? any EngineFamily.Type }
    }

    /// The forward-pass spec straight from config bytes, by model type (for tests of a family's refusals).
    static let all: [String: Builder] = {
        var table: [String: Builder] = [:]
        for family in engineFamilies {
            for type in family.modelTypes { table[type] = builder(family) }
        }
        return table
    }()

    private static func builder<F: EngineFamily>(_ family: F.Type) -> Builder {
        { bytes, path throws(MoESlimError) in
            let config: F.Config
            do {
                config = try F.Config(from: JSONValueDecoder(JSONParser.parse(bytes)))
            } catch {
                throw MoESlimError(.invalidConfig, "config lacks what the forward pass needs: \(ConfigDecoding.explain(error))", path: path)
            }
            guard let recipe = F.forwardPass(config, path: path) else {
                throw MoESlimError(.unsupportedModel, "the forward pass is not implemented", path: path)
            }
            return try recipe.spec()
        }
    }

    public static var supportedModelTypes: [String] { engineFamilies.flatMap { $0.modelTypes }.sorted() }

    /// The forward-pass spec for a described checkpoint, or a clear refusal for families it cannot run exactly.
    public static func spec(for checkpoint: Checkpoint, model: ModelDescription) throws(MoESlimError) -> EngineSpec {
        guard FamilyRegistry.family(forModelType: model.modelType) is any EngineFamily.Type, let recipe = model.forwardPass else {
            throw MoESlimError(
                .unsupportedModel,
                "the forward pass for model_type '\(model.modelType)' is not implemented (implemented: \(supportedModelTypes.joined(separator: ", "))); counts from an approximate forward pass would be silently wrong",
                path: checkpoint.configPath)
        }
        return try recipe.spec()
    }
}
