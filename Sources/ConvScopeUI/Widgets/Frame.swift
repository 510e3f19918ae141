/// A box-drawing border with a title in its top edge: `╭─ Title ───╮`.
///
/// A focused frame uses heavy lines and the title style, so the panel with the keyboard focus
/// stands out even without colour.
public struct Frame: Sendable {
    public var title: String
    public var isFocused: Bool
    public var theme: Theme

    public init(title: String = "", isFocused: Bool = false, theme: Theme = .standard) {
        self.title = title
        self.isFocused = isFocused
        self.theme = theme
    }

    /// Draws the border on the edge of `rect` and returns the inside; a rectangle smaller than
    /// 2 x 2 gets no border and is returned whole.
    @discardableResult
    public func draw(into grid: inout CellGrid, in rect: Rect) -> Rect {
        guard rect.width >= 2, rect.height >= 2 else { return rect }
        let glyphs: (horizontal: Unicode.Scalar, vertical: Unicode.Scalar, corners: [Unicode.Scalar]) =
            isFocused ? ("━", "┃", ["┏", "┓", "┗", "┛"]) : ("─", "│", ["╭", "╮", "╰", "╯"])
        let style = isFocused ? theme.title : theme.border
        for x in rect.x + 1..<rect.maxX - 1 {
            grid.set(Cell(glyphs.horizontal, style: style), x: x, y: rect.y)
            grid.set(Cell(glyphs.horizontal, style: style), x: x, y: rect.maxY - 1)
        }
        for y in rect.y + 1..<rect.maxY - 1 {
            grid.set(Cell(glyphs.vertical, style: style), x: rect.x, y: y)
            grid.set(Cell(glyphs.vertical, style: style), x: rect.maxX - 1, y: y)
        }
        grid.set(Cell(glyphs.corners[0], style: style), x: rect.x, y: rect.y)
        grid.set(Cell(glyphs.corners[1], style: style), x: rect.maxX - 1, y: rect.y)
        grid.set(Cell(glyphs.corners[2], style: style), x: rect.x, y: rect.maxY - 1)
        grid.set(Cell(glyphs.corners[3], style: style), x: rect.maxX - 1, y: rect.maxY - 1)
        if !title.isEmpty && rect.width > 6 {
            let titleText = " " + title.truncated(toWidth: rect.width - 6) + " "
            grid.write(titleText, x: rect.x + 2, y: rect.y, style: theme.title, clip: rect)
        }
        return rect.inset(by: 1)
    }
}
