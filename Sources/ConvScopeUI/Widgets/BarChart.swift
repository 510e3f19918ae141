/// One horizontal bar: a label, a value in [0, 1] (for example a class probability) and its colour.
public struct BarRow: Sendable, Hashable {
    public var label: String
    public var value: Double
    public var color: Color
    /// Written right of the bar; by default the value as a percentage ("87.3%").
    public var valueText: String
    /// Draws the label bold (for example the true class).
    public var highlighted: Bool

    public init(label: String, value: Double, color: Color, valueText: String? = nil, highlighted: Bool = false) {
        self.label = label
        self.value = value
        self.color = color
        self.valueText = valueText ?? BarRow.percentText(value)
        self.highlighted = highlighted
    }

    static func percentText(_ value: Double) -> String {
        guard value.isFinite else { return "--" }
        let tenths = Int((min(max(value, 0), 1) * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }
}

/// Horizontal bars, one per row: `label ████▋     87.3%`, with eighth-of-a-cell resolution.
public struct BarChart: Sendable {
    public var rows: [BarRow]
    public var theme: Theme

    public init(rows: [BarRow], theme: Theme = .standard) {
        self.rows = rows
        self.theme = theme
    }

    /// Eighth blocks for partial cells, from one eighth to seven.
    static let partialBlocks: [Character] = ["▏", "▎", "▍", "▌", "▋", "▊", "▉"]

    /// The bar for `value` (clamped to [0, 1]; NaN is 0) exactly `width` characters wide:
    /// full blocks, one partial block, then spaces.
    public static func bar(value: Double, width: Int) -> String {
        guard width > 0 else { return "" }
        let fraction = value.isNaN ? 0 : min(max(value, 0), 1)
        let eighths = Int((fraction * Double(width * 8)).rounded())
        let full = eighths / 8, remainder = eighths % 8
        var bar = String(repeating: "█", count: full)
        if remainder > 0 { bar.append(partialBlocks[remainder - 1]) }
        return bar + String(repeating: " ", count: width - bar.count)
    }

    /// Draws one bar per row of `rect`, top to bottom; rows that do not fit are left out.
    public func draw(into grid: inout CellGrid, in rect: Rect) {
        guard !rect.isEmpty else { return }
        let labelWidth = min(rows.map(\.label.count).max() ?? 0, rect.width / 3)
        let valueWidth = min(rows.map(\.valueText.count).max() ?? 0, rect.width / 4)
        let barWidth = rect.width - labelWidth - valueWidth - 2
        for (index, row) in rows.prefix(rect.height).enumerated() {
            let y = rect.y + index
            let labelStyle = row.highlighted ? theme.text.adding(.bold) : theme.text
            grid.write(row.label.padded(toWidth: labelWidth), x: rect.x, y: y, style: labelStyle, clip: rect)
            if barWidth > 0 {
                grid.write(BarChart.bar(value: row.value, width: barWidth), x: rect.x + labelWidth + 1, y: y,
                           style: Style(foreground: row.color), clip: rect)
            }
            grid.write(row.valueText.padded(toWidth: valueWidth, alignment: .trailing),
                       x: rect.maxX - valueWidth, y: y, style: theme.dimText, clip: rect)
        }
    }
}
