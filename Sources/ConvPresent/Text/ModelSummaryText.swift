import ConvKit

extension ModelSummary {
    /// The table as aligned text, with a totals line (`convscope summary`).
    public var text: String {
        var lines = [["layer", "output", "params", "mult-adds", "RF"]]
        lines.append(["input", inputShape.description, "", "", "1"])
        for row in rows {
            lines.append([
                String(repeating: "  ", count: row.depth) + row.name, row.outputShape.description,
                row.parameters.formatted, row.multiplyAdds.formatted, "\(row.receptiveField)",
            ])
        }
        lines.append(["total", "", totalParameters.formatted, totalMultiplyAdds.formatted, ""])
        let widths = (0..<5).map { column in lines.map { $0[column].count }.max()! }
        var out = "model: \(spec.presetName.map { "\($0) = " } ?? "")\(spec.text)\n"
        for (i, line) in lines.enumerated() {
            let cells = line.enumerated().map { column, cell in
                column == 0 ? cell.padding(widths[column]) : cell.leftPadding(widths[column])
            }
            out += cells.joined(separator: "  ") + "\n"
            if i == 0 || i == lines.count - 2 {
                out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
            }
        }
        return out
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
    fileprivate func leftPadding(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
