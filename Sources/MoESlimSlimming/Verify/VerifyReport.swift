import MoESlimSupport

/// Everything verify found about one checkpoint. Problems are kept as typed errors so the command can exit
/// with the first one's code and prune can rethrow it unchanged.
public struct VerifyReport: Sendable {
    public var path: String
    public var shards: [String] = []
    public var tensorCount = 0
    public var bytes = 0
    public var modelType: String?
    public var moeLayerCount = 0
    public var maxExperts = 0
    public var notes: [String] = []
    /// Float tensors whose data was read (nil without --scan).
    public var scannedTensors: Int?
    public var nonFinite: [NonFiniteCount] = []
    /// Findings that do not stop the model from loading as it is (see IndexTotalSize); verify still passes.
    public var warnings: [MoESlimError] = []
    public var problems: [MoESlimError] = []

    public var passed: Bool { problems.isEmpty }

    public var text: String {
        let warned = warnings.isEmpty ? "" : " (\(warnings.count) warning\(warnings.count == 1 ? "" : "s"))"
        var lines = ["\(path): " + (passed ? "OK" + warned : "FAILED (\(problems.count) problem\(problems.count == 1 ? "" : "s"))")]
        if !shards.isEmpty {
            lines.append("  shards: \(shards.count) (\(shards.joined(separator: ", ")))")
            lines.append("  tensors: \(tensorCount), \(bytes) bytes of data")
        }
        if let modelType {
            lines.append("  model: \(modelType), \(moeLayerCount) MoE layers, up to \(maxExperts) experts per layer")
        }
        lines += notes.map { "  note: \($0)" }
        if let scannedTensors {
            lines.append("  scan: \(scannedTensors) float tensors read, \(nonFinite.count) with NaN or Inf")
            lines += nonFinite.map { "    \($0.shard): tensor '\($0.tensor)': \($0.summary)" }
        }
        lines += warnings.map { "  warning [\($0.code.rawValue)]: \($0)" }
        lines += problems.map { "  problem [\($0.code.rawValue)]: \($0)" }
        // Shard, tensor and model names come from the files: each line is escaped as error messages are.
        return lines.map(EscapedText.of).joined(separator: "\n")
    }

    public var json: JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("path", .string(path)),
            ("ok", .bool(passed)),
            ("shards", .array(shards.map(JSONValue.string))),
            ("tensors", .int(tensorCount)),
            ("bytes", .int(bytes)),
            ("model_type", modelType.map(JSONValue.string) ?? .null),
            ("moe_layers", .int(moeLayerCount)),
            ("max_experts", .int(maxExperts)),
            ("notes", .array(notes.map(JSONValue.string))),
            ("scanned_tensors", scannedTensors.map(JSONValue.int) ?? .null),
        ]
        members.append(("non_finite", .array(nonFinite.map { count in
            .object([
                ("tensor", .string(count.tensor)), ("shard", .string(count.shard)), ("nan", .int(count.nan)),
                ("pos_inf", .int(count.positiveInfinity)), ("neg_inf", .int(count.negativeInfinity)),
            ])
        })))
        members.append(("warnings", .array(warnings.map { Self.entry($0, exitCode: nil) })))
        members.append(("problems", .array(problems.map { Self.entry($0, exitCode: $0.code.exitCode) })))
        return .object(members)
    }

    /// Warnings carry no exit code: they never change the command's status.
    private static func entry(_ finding: MoESlimError, exitCode: Int32?) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [("code", .string(finding.code.rawValue))]
        if let exitCode { members.append(("exit_code", .int(Int(exitCode)))) }
        members += [
            ("message", .string(finding.description)),
            ("path", finding.path.map(JSONValue.string) ?? .null),
            ("tensor", finding.tensor.map(JSONValue.string) ?? .null),
        ]
        return .object(members)
    }
}
