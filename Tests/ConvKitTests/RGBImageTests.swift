import XCTest
import ConvKit

final class RGBImageTests: XCTestCase {
    func grey(_ width: Int, _ height: Int, _ values: [UInt8]) -> RGBImage {
        RGBImage(width: width, height: height, pixels: values.flatMap { [$0, $0, $0] })
    }

    func testBilinearUpsampleOf2x2MatchesHandComputedValues() {
        let map = HeatMap(width: 2, height: 2, values: [0, 1, 2, 3])
        let up = map.resizedBilinear(width: 4, height: 4)
        // align_corners=False: source x = (x + 0.5) / 2 - 0.5 -> -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
        let expected: [Float] = [
            0.0, 0.25, 0.75, 1.0,
            0.5, 0.75, 1.25, 1.5,
            1.5, 1.75, 2.25, 2.5,
            2.0, 2.25, 2.75, 3.0,
        ]
        XCTAssertEqual(up.values, expected)

        // The same on bytes: 0, 40, 80, 120 (times 40, so every value is exact).
        let image = grey(2, 2, [0, 40, 80, 120]).resizedBilinear(width: 4, height: 4)
        XCTAssertEqual(stride(from: 0, to: 48, by: 3).map { image.pixels[$0] }, expected.map { UInt8($0 * 40) })
        XCTAssertEqual(image.pixels[1], image.pixels[0])
    }

    func testBilinearSameSizeIsIdentityAndDownsampleSamplesBetweenPixels() {
        let map = HeatMap(width: 3, height: 1, values: [1, 5, 9])
        XCTAssertEqual(map.resizedBilinear(width: 3, height: 1), map)
        // 4 -> 2: source x = (x + 0.5) * 2 - 0.5 = 0.5, 2.5: midpoints.
        XCTAssertEqual(HeatMap(width: 4, height: 1, values: [0, 2, 4, 6]).resizedBilinear(width: 2, height: 1).values, [1, 5])
    }

    func testAreaDownscaleTo32IsTheMeanOf2x2Blocks() {
        var random = RandomSource(seed: 11)
        let pixels = (0..<64 * 64 * 3).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let image = RGBImage(width: 64, height: 64, pixels: pixels)
        let small = image.downscaledArea(width: 32, height: 32)
        XCTAssertEqual(small.width, 32)
        for y in 0..<32 {
            for x in 0..<32 {
                for c in 0..<3 {
                    var sum = 0
                    for dy in 0..<2 { for dx in 0..<2 { sum += Int(pixels[3 * ((2 * y + dy) * 64 + 2 * x + dx) + c]) } }
                    XCTAssertEqual(Int(small.pixels[3 * (y * 32 + x) + c]), (sum + 2) / 4, "(\(x), \(y), \(c))")
                }
            }
        }
        XCTAssertEqual(image.resized(width: 32, height: 32), small, "resized() shrinks by area")
    }

    func testAreaDownscaleWeighsPartlyCoveredPixels() {
        // 3 -> 2: output 0 covers [0, 1.5): p0 + half of p1; output 1 covers [1.5, 3): half of p1 + p2.
        let row = grey(3, 1, [0, 90, 210]).downscaledArea(width: 2, height: 1)
        XCTAssertEqual(row.pixels, [30, 30, 30, 170, 170, 170])
        // 5 -> 2 in both axes: a constant image stays constant.
        let flat = RGBImage(width: 5, height: 5, color: (9, 99, 199)).downscaledArea(width: 2, height: 2)
        XCTAssertEqual(flat, RGBImage(width: 2, height: 2, color: (9, 99, 199)))
        // A photo-like size to CIFAR's 32 x 32.
        XCTAssertEqual(RGBImage(width: 300, height: 200, color: (1, 2, 3)).downscaledArea(width: 32, height: 32),
                       RGBImage(width: 32, height: 32, color: (1, 2, 3)))
    }

    func testScaleCropBlend() {
        let image = grey(2, 1, [10, 20])
        XCTAssertEqual(image.scaledNearest(by: 2).pixels, grey(4, 2, [10, 10, 20, 20, 10, 10, 20, 20]).pixels)
        let wide = RGBImage(width: 6, height: 2, pixels: (0..<36).map(UInt8.init))
        XCTAssertEqual(wide.centerCroppedSquare(), wide.cropped(x: 2, y: 0, width: 2, height: 2))
        XCTAssertEqual(wide.cropped(x: 2, y: 1, width: 1, height: 1).pixels, [24, 25, 26])

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
