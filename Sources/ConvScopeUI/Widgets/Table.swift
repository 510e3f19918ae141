/// Rows of text in columns with an optional header, a highlighted selection and a scroll bar:
/// the layer list, or any list (one column, no header).
public struct Table: Sendable {
    /// One column: its header, a fixed width (or nil to share the space left over) and alignment.
    public struct Column: Sendable, Hashable {
        public var title: String
        public var width: Int?
        public var alignment: TextAlignment

        public init(_ title: String, width: Int? = nil, alignment: TextAlignment = .leading) {
            self.title = title
            self.width = width
            self.alignment = alignment
        }
    }

    public var columns: [Column]
    public var rows: [[String]]
    public var showsHeader: Bool
    public var theme: Theme

    public init(columns: [Column], rows: [[String]], showsHeader: Bool = true, theme: Theme = .standard) {
        self.columns = columns
        self.rows = rows
        self.showsHeader = showsHeader
        self.theme = theme
    }

    /// A one-column list without header.
    public init(items: [String], theme: Theme = .standard) {
        self.init(columns: [Column("")], rows: items.map { [$0] }, showsHeader: false, theme: theme)
    }

    /// The number of body rows visible in `rect`.
    public func visibleRowCount(in rect: Rect) -> Int {
        max(rect.height - (showsHeader ? 1 : 0), 0)
    }

    /// Draws the table into `rect`. The selection learns the list length and view height and
    /// scrolls so that the selected row shows.
    public func draw(into grid: inout CellGrid, in rect: Rect, selection: inout ListSelection) {
        selection.update(itemCount: rows.count, visibleRows: visibleRowCount(in: rect))
        draw(into: &grid, in: rect, selectedIndex: rows.isEmpty ? nil : selection.selectedIndex,
             scrollOffset: selection.scrollOffset)
    }

    /// Draws the table starting at row `scrollOffset`, with no row selected.
    public func draw(into grid: inout CellGrid, in rect: Rect, scrollOffset: Int = 0) {
        draw(into: &grid, in: rect, selectedIndex: nil, scrollOffset: scrollOffset)
    }

    private func draw(into grid: inout CellGrid, in rect: Rect, selectedIndex: Int?, scrollOffset: Int) {
        guard !rect.isEmpty else { return }
        let (header, body) = rect.splitTop(showsHeader ? 1 : 0)
        let needsScrollBar = rows.count > body.height && body.width > 1
        let (content, scrollBar) = body.splitRight(needsScrollBar ? 1 : 0)
        let widths = columnWidths(total: content.width)

        if !header.isEmpty {
            drawRow(columns.map(\.title), widths: widths, in: Rect(x: header.x, y: header.y, width: content.width, height: 1),
                    into: &grid, style: theme.dimText.adding(.bold))
        }
        for line in 0..<body.height {
            let index = scrollOffset + line
            guard index < rows.count else { break }
            let style = index == selectedIndex ? theme.selection : theme.text
            drawRow(rows[index], widths: widths, in: Rect(x: content.x, y: content.y + line, width: content.width, height: 1),
                    into: &grid, style: style)
        }
        if !scrollBar.isEmpty { drawScrollBar(into: &grid, in: scrollBar, offset: scrollOffset) }
    }

    /// Fixed columns get their width; the rest share what is left (at least 1 each); one space
    /// separates neighbouring columns.
    public func columnWidths(total: Int) -> [Int] {
        let gaps = max(columns.count - 1, 0)
        let fixed = columns.compactMap(\.width).reduce(0, +)
        let flexibleCount = columns.filter { $0.width == nil }.count
        let spare = max(total - gaps - fixed, 0)
        var flexibleLeft = flexibleCount
        var spareLeft = spare
        return columns.map { column in
            if let width = column.width { return width }
            let share = max(spareLeft / max(flexibleLeft, 1), 1)
            flexibleLeft -= 1
            spareLeft -= share
            return share
        }
    }

    private func drawRow(_ cells: [String], widths: [Int], in rect: Rect, into grid: inout CellGrid, style: Style) {
        grid.fill(rect, with: Cell(" ", style: style))
        var x = rect.x
        for (index, width) in widths.enumerated() {
            let text = index < cells.count ? cells[index] : ""
            grid.write(text.padded(toWidth: width, alignment: columns[index].alignment), x: x, y: rect.y, style: style, clip: rect)
            x += width + 1
        }
    }

    private func drawScrollBar(into grid: inout CellGrid, in rect: Rect, offset: Int) {
        let track = rect.height
        let thumb = max(track * track / rows.count, 1)
        let maxOffset = max(rows.count - track, 1)
        let thumbStart = (track - thumb) * min(offset, maxOffset) / maxOffset
        for row in 0..<track {
            let inThumb = row >= thumbStart && row < thumbStart + thumb
            grid.set(Cell(inThumb ? "█" : "│", style: inThumb ? theme.text : theme.dimText), x: rect.x, y: rect.y + row)
        }
    }
}
