import ConvPresent
import XCTest
import ConvScopeUI

final class CellGridTests: XCTestCase {
    func testWriteIsClippedToTheGrid() {
        var grid = CellGrid(width: 6, height: 2)
        grid.write("abcdefghij", x: -2, y: 0)
        grid.write("xyz", x: 4, y: 1)
        grid.write("nope", x: 0, y: 2)
        grid.write("nope", x: 0, y: -1)
        XCTAssertEqual(grid.lines, ["cdefgh", "    xy"])
    }

    func testWriteIsClippedToTheClipRectangle() {
        var grid = CellGrid(width: 8, height: 3, fill: Cell("."))
        let end = grid.write("hello", x: 1, y: 1, clip: Rect(x: 2, y: 1, width: 3, height: 1))
        XCTAssertEqual(grid.lines, ["........", "..ell...", "........"])
        XCTAssertEqual(end, 6)
        grid.write("zzz", x: 0, y: 0, clip: Rect(x: 0, y: 1, width: 8, height: 1))
        XCTAssertEqual(grid.line(0), "........")
    }

    func testRandomDrawingNeverTouchesCellsOutsideItsClip() {
        var random = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var grid = CellGrid(width: 12, height: 7, fill: Cell("."))
            let clip = Rect(x: .random(in: -5...14, using: &random), y: .random(in: -3...9, using: &random),
                            width: .random(in: 0...10, using: &random), height: .random(in: 0...6, using: &random))
            let before = grid
            grid.write(String(repeating: "#", count: .random(in: 0...30, using: &random)),
                       x: .random(in: -20...20, using: &random), y: .random(in: -3...9, using: &random), clip: clip)
            grid.set(Cell("#"), x: .random(in: -3...14, using: &random), y: .random(in: -3...9, using: &random), clip: clip)
            grid.fill(clip.intersection(Rect(x: .random(in: -5...14, using: &random), y: .random(in: -3...9, using: &random),
                                             width: 8, height: 4)), with: Cell("#"))
            for y in 0..<grid.height {
                for x in 0..<grid.width where !clip.contains(x: x, y: y) {
                    XCTAssertEqual(grid[x, y], before[x, y], "cell (\(x), \(y)) outside clip \(clip) changed")
                }
            }
            XCTAssertEqual(grid.cells.count, 12 * 7)
        }
    }

    func testFillStaysInsideTheGrid() {
        var grid = CellGrid(width: 4, height: 3)
        grid.fill(Rect(x: 2, y: 1, width: 10, height: 10), with: Cell("#"))
        grid.fill(Rect(x: -5, y: -5, width: 6, height: 6), with: Cell("%"))
        XCTAssertEqual(grid.lines, ["%   ", "  ##", "  ##"])
    }

    func testControlCharactersAreShownAsQuestionMarks() {
        var grid = CellGrid(width: 5, height: 1)
        grid.write("a\tb\u{1B}c", x: 0, y: 0)
        XCTAssertEqual(grid.line(0), "a?b?c")
    }

    func testWriteLineAlignsAndTruncates() {
        var grid = CellGrid(width: 10, height: 3)
        grid.writeLine("right", in: Rect(x: 0, y: 0, width: 10, height: 1), alignment: .trailing)
        grid.writeLine("mid", in: Rect(x: 0, y: 1, width: 10, height: 1), alignment: .center)
        grid.writeLine("far too long text", in: Rect(x: 2, y: 2, width: 6, height: 1))
        XCTAssertEqual(grid.lines, ["     right", "   mid    ", "  far t…  "])
    }

    func testOutOfRangeReadsAreBlankAndWritesAreIgnored() {
        var grid = CellGrid(width: 2, height: 2)
        grid[5, 5] = Cell("x")
        grid[-1, 0] = Cell("x")
        XCTAssertEqual(grid[5, 5], .blank)
        XCTAssertEqual(grid.lines, ["  ", "  "])
        XCTAssertEqual(CellGrid(width: -3, height: 4).cells.count, 0)
    }

    func testRectSplitsAndIntersections() {
        let rect = Rect(x: 2, y: 3, width: 10, height: 6)
        XCTAssertEqual(rect.splitTop(2).top, Rect(x: 2, y: 3, width: 10, height: 2))
        XCTAssertEqual(rect.splitTop(2).rest, Rect(x: 2, y: 5, width: 10, height: 4))
        XCTAssertEqual(rect.splitRight(4).right, Rect(x: 8, y: 3, width: 4, height: 6))
        XCTAssertEqual(rect.splitLeft(20).rest.width, 0)
        XCTAssertEqual(rect.inset(by: 1), Rect(x: 3, y: 4, width: 8, height: 4))
        XCTAssertTrue(rect.intersection(Rect(x: 20, y: 0, width: 5, height: 5)).isEmpty)
        XCTAssertEqual(rect.centered(width: 4, height: 2), Rect(x: 5, y: 5, width: 4, height: 2))
    }

    func testTruncationAndPadding() {
        XCTAssertEqual("abcdef".truncated(toWidth: 4), "abc…")
        XCTAssertEqual("abc".truncated(toWidth: 3), "abc")
        XCTAssertEqual("abc".truncated(toWidth: 0), "")
        XCTAssertEqual("ab".padded(toWidth: 5, alignment: .trailing), "   ab")
        XCTAssertEqual("ab".padded(toWidth: 5, alignment: .center), " ab  ")
    }
}
