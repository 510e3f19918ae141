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

    func testScaleAndCrop() {
        let image = grey(2, 1, [10, 20])
        XCTAssertEqual(image.scaledNearest(by: 2).pixels, grey(4, 2, [10, 10, 20, 20, 10, 10, 20, 20]).pixels)
        let wide = RGBImage(width: 6, height: 2, pixels: (0..<36).map(UInt8.init))
        XCTAssertEqual(wide.centerCroppedSquare(), wide.cropped(x: 2, y: 0, width: 2, height: 2))
        XCTAssertEqual(wide.cropped(x: 2, y: 1, width: 1, height: 1).pixels, [24, 25, 26])
    }
}
