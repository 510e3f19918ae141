/// A key and what it does, as listed in the help overlay.
public struct KeyBinding: Sendable, Hashable {
    public var key: String
    public var description: String

    public init(_ key: String, _ description: String) {
        self.key = key
        self.description = description
    }
}

/// A framed box centred over the screen listing key bindings, `key  description` per line.
///
/// The box is as small as its content allows. When the bindings do not fit in one column of the
/// available height they flow into more columns; descriptions (never keys, unless a single key is
/// wider than a whole column) are shortened with `…` when the width runs out.
public struct HelpOverlay: Sendable {
    public var title: String
    public var bindings: [KeyBinding]
    /// A closing line under the bindings, for example "? or Esc closes this help".
    public var footer: String
    public var theme: Theme

    public init(title: String = "Keys", bindings: [KeyBinding], footer: String = "", theme: Theme = .standard) {
        self.title = title
        self.bindings = bindings
        self.footer = footer
        self.theme = theme
    }

    /// Clears and draws the box centred in `rect`; returns the box.
    @discardableResult
    public func draw(into grid: inout CellGrid, in rect: Rect) -> Rect {
        let footerRows = footer.isEmpty ? 0 : 2
        let maxRows = max(rect.height - 2 - footerRows, 1)
        let columnCount = max((bindings.count + maxRows - 1) / maxRows, 1)
        let rowCount = (bindings.count + columnCount - 1) / columnCount
        let keyWidth = bindings.map(\.key.count).max() ?? 0
        let descriptionWidth = bindings.map(\.description.count).max() ?? 0
        let naturalColumnWidth = keyWidth + 2 + descriptionWidth
        let columnGap = 3
        let naturalWidth = columnCount * naturalColumnWidth + (columnCount - 1) * columnGap
        let innerWidth = min(max(naturalWidth, footer.count, title.count + 4), rect.width - 4)
        let box = rect.centered(width: innerWidth + 4, height: rowCount + footerRows + 2)

        grid.fill(box, with: Cell(" ", style: theme.text))
        let inside = Frame(title: title, isFocused: true, theme: theme).draw(into: &grid, in: box)
        let content = Rect(x: inside.x + 1, y: inside.y, width: inside.width - 2, height: inside.height)
        let columnWidth = (content.width - (columnCount - 1) * columnGap) / columnCount
        for (index, binding) in bindings.enumerated() {
            let column = index / rowCount, row = index % rowCount
            let cellRect = Rect(x: content.x + column * (columnWidth + columnGap), y: content.y + row, width: columnWidth, height: 1)
                .intersection(content)
            let key = binding.key.truncated(toWidth: cellRect.width)
            grid.write(key, x: cellRect.x, y: cellRect.y, style: theme.keyName, clip: cellRect)
            let descriptionX = cellRect.x + keyWidth + 2
            grid.writeLine(binding.description, in: Rect(x: descriptionX, y: cellRect.y, width: cellRect.maxX - descriptionX, height: 1),
                           style: theme.text)
        }
        if !footer.isEmpty {
            grid.writeLine(footer, in: Rect(x: content.x, y: content.maxY - 1, width: content.width, height: 1),
                           alignment: .center, style: theme.dimText)
        }
        return box
    }
}
