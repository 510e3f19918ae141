import ConvKit
import ConvPresent

/// The layer list (name, output shape, parameters; block insides indented) with the selected
/// layer's details under it: input and output shape, the output-size formula with its numbers, the
/// receptive field and the multiply-adds.
public enum LayersPanel {
    public static func draw(
        layers: [ModelSummary.Row], selection: inout ListSelection, into grid: inout CellGrid, in rect: Rect,
        theme: Theme = .standard
    ) {
        guard !rect.isEmpty, !layers.isEmpty else { return }
        let selected = layers[min(selection.selectedIndex, layers.count - 1)]
        let details = detailLines(selected, width: rect.width)
        let detailHeight = rect.height >= details.count + 6 ? details.count + 1 : 0
        let (listArea, detailArea) = rect.splitBottom(detailHeight)
        Table(
            columns: [Table.Column("layer"), Table.Column("output", width: 9), Table.Column("params", width: 7, alignment: .trailing)],
            rows: layers.map { [String(repeating: "  ", count: $0.depth) + $0.name, $0.outputShape.description, $0.parameters.formatted] },
            theme: theme
        ).draw(into: &grid, in: listArea, selection: &selection)
        guard detailHeight > 0 else { return }
        grid.fill(detailArea.splitTop(1).top, with: Cell("─", style: theme.border))
        for (index, line) in details.enumerated() {
            let row = Rect(x: detailArea.x, y: detailArea.y + 1 + index, width: detailArea.width, height: 1)
            grid.writeLine(line, in: row, style: index == 0 ? theme.title : theme.text)
        }
    }

    /// The selected layer's details, wrapped to `width`.
    public static func detailLines(_ row: ModelSummary.Row, width: Int) -> [String] {
        let lines = [
            "\(row.name): \(row.inputShape) -> \(row.outputShape)", row.formula,
            "receptive field \(row.receptiveField)x\(row.receptiveField) px (jump \(row.jump))",
            "\(row.parameters.formatted) params, \(row.multiplyAdds.formatted) mult-adds",
        ]
        return lines.compactMap { $0 }.flatMap { $0.wrapped(toWidth: width) }
    }
}
