import Foundation
import XCTest
@testable import MoESlimFamilies

/// The registry the golden tests are driven by, read in this one place so that renaming it touches one line.
enum RegisteredFamilies {
    /// Every model_type moe-slim describes (inspect, report, verify, prune, merge-lora).
    static var modelTypes: [String] { ModelFamilies.knownModelTypes }
    /// The model types the forward pass runs (calibrate, eval).
    static var forwardPassTypes: [String] { EngineFamilies.supportedModelTypes }
}

/// The goldens a registered model type needs, where they live under fixtures/ and which script writes them.
enum GoldenKind: String, CaseIterable {
    /// Our prune against the independent slicer (and transformers loading the result).
    case prune
    /// Our parameter and byte totals against transformers'.
    case report
    /// Router decisions, expert norms and hidden states against transformers'.
    case engine
    /// Full-model logits and perplexity against transformers'.
    case eval

    /// The forward-pass goldens are needed only where the family has a forward pass.
    func isNeeded(forwardPass: Bool) -> Bool {
        switch self {
        case .prune, .report: true
        case .engine, .eval: forwardPass
        }
    }

    /// The files this golden is made of, relative to fixtures/.
    func files(_ modelType: String) -> [String] {
        switch self {
        case .prune:
            ["models/\(modelType)/config.json", "models/\(modelType)/plan.json",
             "models/\(modelType)-pruned/model.safetensors", "models/\(modelType)-pruned/config.json"]
        case .report: ["models/\(modelType)/golden.json"]
        case .engine: ["engine/\(modelType)/config.json", "engine/\(modelType)/golden.json"]
        case .eval: ["eval/logits/\(modelType).json"]
        }
    }

    /// The file that names the model type the golden was made for, and where in it.
    private func modelTypeRecord(_ modelType: String) -> String? {
        switch self {
        case .prune: "models/\(modelType)/config.json"
        case .report: nil
        case .engine: "engine/\(modelType)/golden.json"
        case .eval: "eval/logits/\(modelType).json"
        }
    }

    var generator: String {
        switch self {
        case .prune, .report: "fixtures/gen_models.py"
        case .engine: "fixtures/gen_engine.py"
        case .eval: "fixtures/gen_eval.py"
        }
    }

    /// What is wrong with this golden for `modelType` under `root`, or nil when it is complete.
    func problem(_ modelType: String, root: String) -> String? {
        let absent = files(modelType).filter { !FileManager.default.fileExists(atPath: root + "/" + $0) }
        if !absent.isEmpty {
            return "model type '\(modelType)' has no \(rawValue) golden (missing \(absent.joined(separator: ", "))); add it to \(generator) and run it"
        }
        guard let record = modelTypeRecord(modelType) else { return nil }
        let recorded = (try? Fixtures.json(root + "/" + record))?["model_type"] as? String
        guard recorded == modelType else {
            return "model type '\(modelType)': its \(rawValue) golden \(record) was made for model_type '\(recorded ?? "none")'"
        }
        return nil
    }
}

enum GoldenCoverage {
    /// One message per missing or mismatched golden, naming the model type and the kind.
    static func problems(modelTypes: [String], forwardPass: Set<String>, root: String) -> [String] {
        modelTypes.flatMap { type in
            GoldenKind.allCases
                .filter { $0.isNeeded(forwardPass: forwardPass.contains(type)) }
                .compactMap { $0.problem(type, root: root) }
        }
    }
}

extension XCTestCase {
    /// Runs `check` on every name; an error is reported with the name it came from and the next name still runs.
    func forEachGolden(_ names: [String], file: StaticString = #filePath, line: UInt = #line, _ check: (String) throws -> Void) {
        for name in names {
            do {
                try check(name)
            } catch {
                XCTFail("\(name): \(error)", file: file, line: line)
            }
        }
    }
}
