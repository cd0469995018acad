import Foundation
import MoESlimSupport
import MoESlimSlimming

/// The sweep's table and JSON (formats/eval.md): one row per plan, then, with --group-by, the same rows'
/// metrics over each group's records alone.
struct SweepOutput {
    let model: String
    let counts: String?
    let planFiles: [String]
    let task: String
    let context: Int
    let rows: [SweepRow]

    func json<M: SweepMetric>(_ results: [Grouped<M>]) -> String {
        let items: [JSONValue] = rows.map { row in
            let size: [(key: String, value: JSONValue)] = [
                ("bytes", .int(row.size.bytes)), ("flops_per_token", EvalOutput.number(row.size.flopsPerToken)),
            ]
            let metrics = EvalOutput.grouped(results[row.model], nil) { m, _ in m.members(versusBase: !row.isBase) }
            return .object(row.labelMembers + size + metrics)
        }
        var members: [(key: String, value: JSONValue)] = [("model", .string(model))]
        if let counts { members.append(("counts", .string(counts))) }
        members += [("task", .string(task)), ("context", .int(context)), ("rows", .array(items))]
        return JSONValue.object(members).serialized()
    }

    func table<M: SweepMetric>(_ results: [Grouped<M>]) -> String {
        let withPlanFile = !planFiles.isEmpty
        let labels = ["sparsity", "strategy", "criterion"] + (withPlanFile ? ["plan"] : [])
        var lines = [title(results[0].total.extent)]
        lines += aligned(labels + ["bytes", "FLOPs/token"] + M.columns, labelColumns: labels.count, rows.map { row in
            row.labels(withPlanFile: withPlanFile) + [ByteSize(row.size.bytes).description, EvalOutput.count(row.size.flopsPerToken)]
                + results[row.model].total.cells(versusBase: !row.isBase)
        })
        for group in results[0].groups {
            lines += ["", "group \(EscapedText.of(group)): \(results[0].byGroup[ByteName(group)]!.extent)"]
            lines += aligned(labels + M.columns, labelColumns: labels.count, rows.map { row in
                row.labels(withPlanFile: withPlanFile) + results[row.model].byGroup[ByteName(group)]!.cells(versusBase: !row.isBase)
            })
        }
        return lines.joined(separator: "\n")
    }

    private func title(_ extent: String) -> String {
        var sources = counts.map { [$0] } ?? []
        if !planFiles.isEmpty { sources.append(EvalOutput.counted(planFiles.count, "plan file")) }
        return "\(model): \(EvalOutput.counted(rows.count - 1, "plan")) from \(sources.joined(separator: " and ")), \(extent), FLOPs at n_ctx \(context)"
    }

    /// Names and labels left-aligned, numbers right-aligned, each column as wide as its widest cell.
    private func aligned(_ header: [String], labelColumns: Int, _ body: [[String]]) -> [String] {
        let cells = [header] + body
        let widths = header.indices.map { c in cells.map { $0[c].count }.max() ?? 0 }
        return cells.map { line in
            line.enumerated().map { c, cell in
                let pad = String(repeating: " ", count: widths[c] - cell.count)
                return c < labelColumns ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
    }
}
