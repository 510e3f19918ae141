/// A one-row bar, usually at the bottom of the screen: text on the left (state, messages) and on
/// the right (for example "? help  q quit").
///
/// When both do not fit, the right text keeps its place and the left text is shortened with `…`.
public struct StatusLine: Sendable {
    public var left: String
    public var right: String
    public var style: Style

    public init(left: String, right: String = "", style: Style = Theme.standard.statusBar) {
        self.left = left
        self.right = right
        self.style = style
    }

    /// Fills the first row of `rect` with the bar.
    public func draw(into grid: inout CellGrid, in rect: Rect) {
        let bar = rect.splitTop(1).top
        guard !bar.isEmpty else { return }
        grid.fill(bar, with: Cell(" ", style: style))
        let rightText = right.truncated(toWidth: max(bar.width - 2, 0))
        let rightWidth = rightText.isEmpty ? 0 : rightText.count + 1
        grid.writeLine(rightText, in: Rect(x: bar.maxX - rightWidth, y: bar.y, width: rightText.count, height: 1), style: style)
        grid.writeLine(left, in: Rect(x: bar.x + 1, y: bar.y, width: bar.width - rightWidth - 2, height: 1), style: style)
    }
}
