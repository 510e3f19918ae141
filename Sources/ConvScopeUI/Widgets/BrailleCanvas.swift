/// A dot raster drawn with Braille characters: each cell holds 2 x 4 dots (U+2800 to U+28FF).
///
/// Dot (0, 0) is the top-left dot of the top-left cell. Each lit cell takes the colour of the last
/// dot drawn into it, because a terminal cell has a single foreground colour.
public struct BrailleCanvas: Sendable {
    /// Size in cells.
    public let columns: Int
    public let rows: Int
    private var dots: [UInt8]
    private var colors: [Color?]

    public init(columns: Int, rows: Int) {
        self.columns = max(columns, 0)
        self.rows = max(rows, 0)
        dots = Array(repeating: 0, count: self.columns * self.rows)
        colors = Array(repeating: nil, count: self.columns * self.rows)
    }

    /// Size in dots.
    public var dotWidth: Int { columns * 2 }
    public var dotHeight: Int { rows * 4 }

    /// The Braille bit for a dot inside its cell: dots 1-2-3-7 run down the left column and 4-5-6-8
    /// down the right, and dot n is bit n-1 of the offset from U+2800.
    static func bit(column: Int, row: Int) -> UInt8 {
        switch (column, row) {
        case (0, 3): return 0x40
        case (1, 3): return 0x80
        case (0, _): return 1 << UInt8(row)
        default: return 1 << UInt8(row + 3)
        }
    }

    /// Lights the dot at (`x`, `y`); dots outside the canvas are ignored.
    public mutating func setDot(x: Int, y: Int, color: Color? = nil) {
        guard x >= 0, y >= 0, x < dotWidth, y < dotHeight else { return }
        let index = (y / 4) * columns + x / 2
        dots[index] |= BrailleCanvas.bit(column: x % 2, row: y % 4)
        colors[index] = color
    }

    /// Lights every dot on the straight line between two dots (Bresenham), both ends included.
    public mutating func drawLine(fromX x0: Int, y y0: Int, toX x1: Int, y y1: Int, color: Color? = nil) {
        let dx = abs(x1 - x0), dy = -abs(y1 - y0)
        let stepX = x0 < x1 ? 1 : -1, stepY = y0 < y1 ? 1 : -1
        var (x, y, error) = (x0, y0, dx + dy)
        while true {
            setDot(x: x, y: y, color: color)
            if x == x1 && y == y1 { return }
            let doubled = 2 * error
            if doubled >= dy { error += dy; x += stepX }
            if doubled <= dx { error += dx; y += stepY }
        }
    }

    /// The Braille character of a cell (U+2800, the blank pattern, when no dot is lit).
    public func glyph(column: Int, row: Int) -> Unicode.Scalar {
        Unicode.Scalar(0x2800 + UInt32(dots[row * columns + column]))!
    }

    /// Copies the lit cells into `grid` with their top-left at (`x`, `y`), clipped to `clip`;
    /// unlit cells are left as they were.
    public func draw(into grid: inout CellGrid, x: Int, y: Int, background: Color? = nil, clip: Rect? = nil) {
        for row in 0..<rows {
            for column in 0..<columns where dots[row * columns + column] != 0 {
                let style = Style(foreground: colors[row * columns + column], background: background)
                grid.set(Cell(glyph(column: column, row: row), style: style), x: x + column, y: y + row, clip: clip)
            }
        }
    }
}
