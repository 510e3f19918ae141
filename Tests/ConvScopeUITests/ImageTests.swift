import ConvKit
import ConvScopeUI
import XCTest

/// `color` as the engine's byte triple.
private func triple(_ color: Color) -> RGBImage.Color { (color.red, color.green, color.blue) }

final class HalfBlockImageTests: XCTestCase {
    private let topLeft = Color(hex: 0x102030), topRight = Color(hex: 0x405060)
    private let bottomLeft = Color(hex: 0x708090), bottomRight = Color(hex: 0xA0B0C0)

    private var twoByTwo: RGBImage {
        var image = RGBImage(width: 2, height: 2)
        image[0, 0] = triple(topLeft)
        image[1, 0] = triple(topRight)
        image[0, 1] = triple(bottomLeft)
        image[1, 1] = triple(bottomRight)
        return image
    }

    func testEachCellShowsTopPixelAsForegroundAndBottomPixelAsBackground() {
        var grid = CellGrid(width: 2, height: 1)
        let area = HalfBlockImage(image: twoByTwo).draw(into: &grid, in: grid.bounds)
        XCTAssertEqual(area, Rect(x: 0, y: 0, width: 2, height: 1))
        XCTAssertEqual(grid.line(0), "▀▀")
        XCTAssertEqual(grid[0, 0].foreground, topLeft)
        XCTAssertEqual(grid[0, 0].background, bottomLeft)
        XCTAssertEqual(grid[1, 0].foreground, topRight)
        XCTAssertEqual(grid[1, 0].background, bottomRight)
    }

    func testLargerRegionsEnlargeByAWholeFactorAndCentre() {
        var grid = CellGrid(width: 6, height: 3)
        let area = HalfBlockImage(image: twoByTwo).draw(into: &grid, in: grid.bounds)
        // 6 x 6 pixels available: scale 3 would need 6 x 6, which fits exactly.
        XCTAssertEqual(area, Rect(x: 0, y: 0, width: 6, height: 3))
        XCTAssertEqual(grid[0, 0].foreground, topLeft)
        XCTAssertEqual(grid[2, 0].background, topLeft, "pixel rows 0-2 all come from source row 0")
        XCTAssertEqual(grid[3, 1].foreground, topRight)
        XCTAssertEqual(grid[3, 1].background, bottomRight)
        XCTAssertEqual(grid[5, 2].foreground, bottomRight)

        var wide = CellGrid(width: 9, height: 2)
        let centred = HalfBlockImage(image: twoByTwo).draw(into: &wide, in: wide.bounds)
        XCTAssertEqual(centred, Rect(x: 2, y: 0, width: 4, height: 2))
        XCTAssertEqual(wide[0, 0], .blank)
        XCTAssertEqual(wide[2, 0].foreground, topLeft)
    }

    func testAreaDownscaleAveragesBlocks() {
        var checker = RGBImage(width: 4, height: 4)
        for y in 0..<4 {
            for x in 0..<4 { checker[x, y] = (x + y) % 2 == 0 ? (255, 255, 255) : (0, 0, 0) }
        }
        var grid = CellGrid(width: 2, height: 1)
        HalfBlockImage(image: checker, filter: .area).draw(into: &grid, in: grid.bounds)
        for x in 0..<2 {
            XCTAssertEqual(grid[x, 0].foreground, Color(grey: 128))
            XCTAssertEqual(grid[x, 0].background, Color(grey: 128))
        }
        HalfBlockImage(image: checker, filter: .nearest).draw(into: &grid, in: grid.bounds)
        XCTAssertTrue([Color.white, .black].contains(grid[0, 0].foreground!))
    }

    func testFittedSizes() {
        XCTAssertTrue(HalfBlockImage.fittedSize(width: 32, height: 32, columns: 80, rows: 20) == (32, 32))
        XCTAssertTrue(HalfBlockImage.fittedSize(width: 32, height: 32, columns: 80, rows: 40) == (64, 64))
        XCTAssertTrue(HalfBlockImage.fittedSize(width: 32, height: 32, columns: 10, rows: 10) == (10, 10))
        XCTAssertTrue(HalfBlockImage.fittedSize(width: 32, height: 16, columns: 8, rows: 40) == (8, 4))
        XCTAssertTrue(HalfBlockImage.fittedSize(width: 32, height: 32, columns: 0, rows: 10) == (0, 0))
    }

    func testOddPixelHeightLeavesTheLastBottomHalfToTheTerminal() {
        var image = RGBImage(width: 1, height: 3, color: triple(.red))
        image[0, 2] = triple(.blue)
        var grid = CellGrid(width: 1, height: 2)
        HalfBlockImage(image: image).draw(into: &grid, in: grid.bounds)
        XCTAssertEqual(grid[0, 1].foreground, .blue)
        XCTAssertNil(grid[0, 1].background)
    }

    func testDrawingStaysInsideItsRegion() {
        var grid = CellGrid(width: 10, height: 6, fill: Cell("."))
        let region = Rect(x: 3, y: 2, width: 4, height: 2)
        HalfBlockImage(image: RGBImage(width: 50, height: 7, color: triple(.green))).draw(into: &grid, in: region)
        for y in 0..<6 {
            for x in 0..<10 where !region.contains(x: x, y: y) {
                XCTAssertEqual(grid[x, y].glyph, ".")
            }
        }
    }
}
