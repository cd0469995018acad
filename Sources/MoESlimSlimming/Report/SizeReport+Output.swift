import Foundation
import MoESlimSupport

extension SizeReport {
    public static func json(_ base: SizeReport, compared other: SizeReport?) -> JSONValue {
        guard let other else { return base.json }
        return .object([
            ("base", base.json),
            ("compared", other.json),
            ("reduction_percent", .object([
                ("total_params", number(reduction(base.totalParams, other.totalParams))),
                ("active_params", number(reduction(base.activeParams, other.activeParams))),
                ("bytes", number(reduction(base.bytes, other.bytes))),
                ("flops_per_token", number(reduction(base.flopsPerToken, other.flopsPerToken))),
            ])),
        ])
    }

    public var json: JSONValue {
        .object([
            ("path", .string(path)),
            ("model_type", .string(modelType)),
            ("context", .int(context)),
            ("total_params", .int(totalParams)),
            ("active_params", .int(activeParams)),
            ("bytes", .int(bytes)),
            ("scale_bytes", .int(scaleBytes)),
            ("flops_per_token", Self.number(flopsPerToken)),
            ("experts_per_layer", .object(expertsPerLayer.sorted { $0.key < $1.key }.map { (String($0.key), .int($0.value)) })),
            ("top_k_per_layer", .object(topKPerLayer.sorted { $0.key < $1.key }.map { (String($0.key), .int($0.value)) })),
            ("components", .array(rows.map { row in
                .object([
                    ("name", .string(row.component.rawValue)),
                    ("params", .int(row.params)),
                    ("active_params", .int(row.activeParams)),
                    ("bytes", .int(row.bytes)),
                    ("flops_per_token", Self.number(row.flopsPerToken)),
                ])
            })),
        ])
    }

    public static func table(_ base: SizeReport, compared other: SizeReport?) -> String {
        var lines: [String] = []
        lines.append("\(base.path) (\(base.modelType), n_ctx \(base.context))" + (other.map { "  vs  \($0.path)" } ?? ""))
        let header = ["component", "params", "bytes", "FLOPs/token"] + (other == nil ? [] : ["params'", "bytes'", "FLOPs/token'", "Δparams"])
        var table: [[String]] = [header]
        for component in Component.allCases {
            let a = base.rows.first { $0.component == component }
            let b = other?.rows.first { $0.component == component }
            if a == nil && b == nil { continue }
            var row = [component.title, human(a?.params ?? 0), ByteSize(a?.bytes ?? 0).description, human(a?.flopsPerToken ?? 0)]
            if other != nil {
                row += [human(b?.params ?? 0), ByteSize(b?.bytes ?? 0).description, human(b?.flopsPerToken ?? 0),
                        percent(reduction(a?.params ?? 0, b?.params ?? 0))]
            }
            table.append(row)
        }
        var totals = ["total", human(base.totalParams), ByteSize(base.bytes).description, human(base.flopsPerToken)]
        var activeRow = ["active per token", human(base.activeParams), "", ""]
        if let other {
            totals += [human(other.totalParams), ByteSize(other.bytes).description, human(other.flopsPerToken), percent(reduction(base.totalParams, other.totalParams))]
            activeRow += [human(other.activeParams), "", "", percent(reduction(base.activeParams, other.activeParams))]
        }
        table.append(totals)
        table.append(activeRow)
        let widths = header.indices.map { col in table.map { $0[col].count }.max() ?? 0 }
        for (i, row) in table.enumerated() {
            let cells = row.enumerated().map { col, cell in
                col == 0 ? cell.padding(toLength: widths[col], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[col] - cell.count) + cell
            }
            lines.append(cells.joined(separator: "  "))
            if i == 0 || i == table.count - 3 { lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
        if base.scaleBytes > 0 || (other?.scaleBytes ?? 0) > 0 {
            lines.append("quantization scales: \(ByteSize(base.scaleBytes))" + (other.map { " → \(ByteSize($0.scaleBytes))" } ?? "") + " (included in bytes above)")
        }
        if let other {
            lines.append("reduction: bytes \(percent(reduction(base.bytes, other.bytes))), FLOPs/token \(percent(reduction(base.flopsPerToken, other.flopsPerToken)))")
        }
        return lines.joined(separator: "\n")
    }

    static func reduction(_ a: Int, _ b: Int) -> Double { reduction(Double(a), Double(b)) }
    static func reduction(_ a: Double, _ b: Double) -> Double { a == 0 ? 0 : (a - b) / a * 100 }

    static func number(_ v: Double) -> JSONValue {
        if v.rounded() == v && abs(v) < 9e15 { return .number(String(Int(v))) }
        return .number(String(format: "%.6g", v))
    }

    static func percent(_ v: Double) -> String { String(format: "%.1f%%", v) }

    static func human(_ v: Int) -> String { human(Double(v)) }

    static func human(_ v: Double) -> String {
        let units: [(Double, String)] = [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")]
        for (scale, suffix) in units where abs(v) >= scale { return String(format: "%.2f%@", v / scale, suffix) }
        return String(format: "%.0f", v)
    }

}
