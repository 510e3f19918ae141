/// A rectangle of terminal cells: column `x`, row `y`, counted from the top-left corner.
public struct Rect: Sendable, Hashable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    /// A rectangle; negative sizes are stored as 0.
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(width, 0)
        self.height = max(height, 0)
    }

    public var isEmpty: Bool { width == 0 || height == 0 }
    /// One past the last column.
    public var maxX: Int { x + width }
    /// One past the last row.
    public var maxY: Int { y + height }

    public func contains(x column: Int, y row: Int) -> Bool {
        column >= x && column < maxX && row >= y && row < maxY
    }

    /// The common part of two rectangles (empty when they do not overlap).
    public func intersection(_ other: Rect) -> Rect {
        let left = max(x, other.x), top = max(y, other.y)
        return Rect(x: left, y: top, width: min(maxX, other.maxX) - left, height: min(maxY, other.maxY) - top)
    }

    /// The rectangle shrunk by `amount` cells on every side.
    public func inset(by amount: Int) -> Rect {
        Rect(x: x + amount, y: y + amount, width: width - 2 * amount, height: height - 2 * amount)
    }

    /// The first `count` rows, and the rest.
    public func splitTop(_ count: Int) -> (top: Rect, rest: Rect) {
        let count = min(max(count, 0), height)
        return (Rect(x: x, y: y, width: width, height: count),
                Rect(x: x, y: y + count, width: width, height: height - count))
    }

    /// The last `count` rows, and the rest.
    public func splitBottom(_ count: Int) -> (rest: Rect, bottom: Rect) {
        let count = min(max(count, 0), height)
        return (Rect(x: x, y: y, width: width, height: height - count),
                Rect(x: x, y: maxY - count, width: width, height: count))
    }

    /// The first `count` columns, and the rest.
    public func splitLeft(_ count: Int) -> (left: Rect, rest: Rect) {
        let count = min(max(count, 0), width)
        return (Rect(x: x, y: y, width: count, height: height),
                Rect(x: x + count, y: y, width: width - count, height: height))
    }

    /// The last `count` columns, and the rest.
    public func splitRight(_ count: Int) -> (rest: Rect, right: Rect) {
        let count = min(max(count, 0), width)
        return (Rect(x: x, y: y, width: width - count, height: height),
                Rect(x: maxX - count, y: y, width: count, height: height))
    }

    /// A `width` x `height` rectangle centred in this one (clipped to it).
    public func centered(width: Int, height: Int) -> Rect {
        let width = min(width, self.width), height = min(height, self.height)
        return Rect(x: x + (self.width - width) / 2, y: y + (self.height - height) / 2, width: width, height: height)
    }

    public var description: String { "(\(x),\(y) \(width)x\(height))" }
}
