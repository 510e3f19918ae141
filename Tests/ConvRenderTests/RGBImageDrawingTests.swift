import ConvKit
import ConvRender
import XCTest

/// Drawing on and laying out `RGBImage`s (ConvRender); the resampling is ConvKit's `RGBImageTests`.
final class RGBImageDrawingTests: XCTestCase {
    func testBlend() {
        let black = RGBImage(width: 2, height: 2), white = RGBImage(width: 2, height: 2, color: (255, 255, 255))
        XCTAssertEqual(black.blended(with: white, alpha: 0), black)
        XCTAssertEqual(black.blended(with: white, alpha: 1), white)
        XCTAssertEqual(RGBImage.blend(black, white, alpha: 0.5), RGBImage(width: 2, height: 2, color: (128, 128, 128)))
    }

    func testTextGridAndStrip() {
        let font = BitmapFont.standard
        XCTAssertEqual(font.size(of: "cat 0.93").width, 8 * 6 - 1)
        XCTAssertEqual(font.size(of: "cat 0.93", scale: 2).height, 14)
        XCTAssertEqual(font.size(of: "a\nbc").height, 9 + 7)
        XCTAssertTrue(font.isSet("I", x: 1, y: 0) && !font.isSet("I", x: 0, y: 0))
        XCTAssertTrue((0..<7).allSatisfy { font.isSet("|", x: 2, y: $0) })
        XCTAssertFalse((0..<5).contains { x in (0..<7).contains { font.isSet(" ", x: x, y: $0) } })

        var canvas = RGBImage(width: 60, height: 12)
        canvas.drawText("conv3 #12", x: 1, y: 1, color: (255, 0, 0))
        let lit = stride(from: 0, to: canvas.pixels.count, by: 3).filter { canvas.pixels[$0] == 255 }.count
        XCTAssertGreaterThan(lit, 40)
        XCTAssertTrue(stride(from: 0, to: canvas.pixels.count, by: 3).allSatisfy { canvas.pixels[$0 + 1] == 0 })
        canvas.drawText("off the edge", x: 55, y: -3, scale: 3)  // clipped, no crash
        canvas.drawText("é\u{1F431}", x: 0, y: 0)  // non-ASCII draws as '?'

        let tiles = (0..<5).map { RGBImage(width: 8, height: 6, color: (UInt8($0 * 50), 0, 0)) }
        let grid = RGBImage.grid(tiles, labels: ["a", "b", "c", "d", "e"], columns: 3, margin: 2, background: (0, 0, 40))
        // 3 columns of 8 + margins; 2 rows of (6 + 7 label + 2) + margins.
        XCTAssertEqual(grid.width, 2 + 3 * (8 + 2))
        XCTAssertEqual(grid.height, 2 + 2 * (6 + 7 + 2 + 2))
        XCTAssertTrue(grid[2, 2] == (0, 0, 0))
        XCTAssertTrue(grid[12, 2] == (50, 0, 0))
        XCTAssertTrue(grid[0, 0] == (0, 0, 40))
        let labelPixels = (10..<15).flatMap { y in (2..<10).map { grid[$0, y] } }
        XCTAssertTrue(labelPixels.contains { $0 == (255, 255, 255) }, "label drawn below its image")

        let strip = RGBImage.strip([RGBImage(width: 3, height: 4, color: (1, 1, 1)), RGBImage(width: 2, height: 2, color: (2, 2, 2))],
                                   gap: 5, background: (9, 9, 9))
        XCTAssertEqual(strip.width, 3 + 5 + 2)
        XCTAssertEqual(strip.height, 4)
        XCTAssertTrue(strip[4, 0] == (9, 9, 9))
        XCTAssertTrue(strip[8, 1] == (2, 2, 2) && strip[8, 0] == (9, 9, 9))
    }

    func testLinesJoinTheirEndsAndAreClipped() {
        var image = RGBImage(width: 10, height: 6)
        let red: RGBImage.Color = (255, 0, 0)
        image.drawLine(from: 1, 1, to: 8, 4, color: red)
        let lit = (0..<10).flatMap { x in (0..<6).filter { image[x, $0] == red }.map { (x, $0) } }
        XCTAssertTrue(image[1, 1] == red && image[8, 4] == red, "both ends")
        XCTAssertEqual(lit.count, 8, "one pixel per column of a shallow line")
        XCTAssertEqual(Set(lit.map(\.0)).count, 8, "no gaps")
        XCTAssertTrue(lit.allSatisfy { abs(Double($0.1) - (1 + Double($0.0 - 1) * 3 / 7)) <= 0.5 }, "on the line: \(lit)")
        // Steep, backwards, thick and partly outside: clipped, not a crash.
        image.drawLine(from: 5, 9, to: 5, -3, color: (0, 255, 0), thickness: 3)
        XCTAssertTrue((0..<6).allSatisfy { image[4, $0] == (0, 255, 0) && image[6, $0] == (0, 255, 0) })
    }
}
