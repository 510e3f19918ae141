/// Where a line of text sits within the width it is given.
public enum TextAlignment: Sendable, Hashable {
    case leading, center, trailing
}

/// An in-memory screen: `width` x `height` cells that every widget draws into.
///
/// All writes are clipped to the grid (and to an optional clip rectangle), so a widget can never
/// scribble outside its region or outside the screen. The curses backend blits a finished grid;
/// tests read it back with `line(_:)` and `text(in:)`.
public struct CellGrid: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    /// A grid filled with `fill`; negative sizes give an empty grid.
    public init(width: Int, height: Int, fill: Cell = .blank) {
        self.width = max(width, 0)
        self.height = max(height, 0)
        cells = Array(repeating: fill, count: self.width * self.height)
    }

    /// The whole grid as a rectangle at the origin.
    public var bounds: Rect { Rect(x: 0, y: 0, width: width, height: height) }

    /// The cell at a position; reading outside the grid gives `.blank`, writing there does nothing.
    public subscript(x: Int, y: Int) -> Cell {
        get { bounds.contains(x: x, y: y) ? cells[y * width + x] : .blank }
        set { if bounds.contains(x: x, y: y) { cells[y * width + x] = newValue } }
    }

    /// Writes one cell if it lies inside both the grid and `clip`.
    public mutating func set(_ cell: Cell, x: Int, y: Int, clip: Rect? = nil) {
        if let clip, !clip.contains(x: x, y: y) { return }
        self[x, y] = cell
    }

    /// Fills the part of `rect` inside the grid with `cell`.
    public mutating func fill(_ rect: Rect, with cell: Cell = .blank) {
        let area = rect.intersection(bounds)
        guard !area.isEmpty else { return }
        for row in area.y..<area.maxY {
            let start = row * width
            for column in area.x..<area.maxX { cells[start + column] = cell }
        }
    }

    /// Writes `text` starting at (`x`, `y`), one character per column, clipped to the grid and `clip`.
    /// Control characters show as `?`. Returns the column after the last character.
    @discardableResult
    public mutating func write(_ text: String, x: Int, y: Int, style: Style = .plain, clip: Rect? = nil) -> Int {
        let end = x + text.count
        let limit = clip.map { $0.intersection(bounds) } ?? bounds
        guard y >= limit.y, y < limit.maxY else { return end }
        var column = x
        for character in text {
            if column >= limit.maxX { break }
            if column >= limit.x { cells[y * width + column] = Cell(CellGrid.glyph(for: character), style: style) }
            column += 1
        }
        return end
    }

    /// Writes `text` on the first row of `rect`, aligned within its width and shortened with `…`
    /// when it does not fit.
    public mutating func writeLine(_ text: String, in rect: Rect, alignment: TextAlignment = .leading, style: Style = .plain) {
        guard !rect.isEmpty else { return }
        let fitted = text.truncated(toWidth: rect.width)
        let spare = rect.width - fitted.count
        let offset: Int
        switch alignment {
        case .leading: offset = 0
        case .center: offset = spare / 2
        case .trailing: offset = spare
        }
        write(fitted, x: rect.x + offset, y: rect.y, style: style, clip: rect)
    }

    /// The glyphs of row `y` as a string (trailing spaces kept), or "" outside the grid.
    public func line(_ y: Int) -> String {
        guard y >= 0, y < height else { return "" }
        var text = String.UnicodeScalarView()
        text.append(contentsOf: cells[(y * width)..<((y + 1) * width)].map(\.glyph))
        return String(text)
    }

    /// Every row's glyphs, top to bottom.
    public var lines: [String] { (0..<height).map(line) }

    /// The glyphs inside `rect` (clipped to the grid), one string per row.
    public func text(in rect: Rect) -> [String] {
        let area = rect.intersection(bounds)
        guard !area.isEmpty else { return [] }
        return (area.y..<area.maxY).map { row in
            var text = String.UnicodeScalarView()
            for column in area.x..<area.maxX { text.append(cells[row * width + column].glyph) }
            return String(text)
        }
    }

    private static func glyph(for character: Character) -> Unicode.Scalar {
        guard let scalar = character.unicodeScalars.first else { return " " }
        let isControl = scalar.value < 0x20 || (0x7F..<0xA0).contains(scalar.value)
        return isControl ? "?" : scalar
    }
}

extension String {
    /// The string shortened to at most `width` characters, ending in `…` when anything was cut.
    public func truncated(toWidth width: Int) -> String {
        guard width > 0 else { return "" }
        guard count > width else { return self }
        return String(prefix(width - 1)) + "…"
    }

    /// The string padded with spaces (or truncated) to exactly `width` characters.
    public func padded(toWidth width: Int, alignment: TextAlignment = .leading) -> String {
        let fitted = truncated(toWidth: width)
        let spare = max(width - fitted.count, 0)
        switch alignment {
        case .leading: return fitted + String(repeating: " ", count: spare)
        case .trailing: return String(repeating: " ", count: spare) + fitted
        case .center:
            return String(repeating: " ", count: spare / 2) + fitted + String(repeating: " ", count: spare - spare / 2)
        }
    }
}
