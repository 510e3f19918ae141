import ConvKit

extension ModelSummary {
    /// The table as aligned text, with a totals line (`convscope summary`).
    public var text: String {
        let body = [["input", inputShape.description, "", "", "1"]] + rows.map { row in
            [
                String(repeating: "  ", count: row.depth) + row.name, row.outputShape.description,
                row.parameters.formatted, row.multiplyAdds.formatted, "\(row.receptiveField)",
            ]
        }
        let table = TextTable(
            header: ["layer", "output", "params", "mult-adds", "RF"], rows: body,
            footer: [["total", "", totalParameters.formatted, totalMultiplyAdds.formatted, ""]])
        return "model: \(spec.presetName.map { "\($0) = " } ?? "")\(spec.text)\n" + table.text
    }
}
