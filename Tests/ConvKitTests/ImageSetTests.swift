import XCTest
import ConvKit

final class ImageSetTests: XCTestCase {
    /// Three images; image i has every red byte 10 + i, green 100 + i, blue 200 + i, except pixel
    /// (x: 1, y: 0) whose red byte is 1.
    private func sample() -> ImageSet {
        var pixels = [UInt8]()
        for i in 0 ..< 3 {
            var image = [UInt8](repeating: UInt8(10 + i), count: 1024)
                + [UInt8](repeating: UInt8(100 + i), count: 1024) + [UInt8](repeating: UInt8(200 + i), count: 1024)
            image[1] = 1
            pixels += image
        }
        return ImageSet(pixels: pixels, labels: [4, 7, 4])
    }

    func testSubsetsAndCounts() {
        let set = sample()
        XCTAssertEqual(set.count, 3)
        XCTAssertEqual(set.classCounts(), [0, 0, 0, 0, 2, 0, 0, 1, 0, 0])
        let firstTwo = set.subset(first: 2)
        XCTAssertEqual(firstTwo.labels, [4, 7])
        XCTAssertEqual(firstTwo.pixels, Array(set.pixels.prefix(2 * 3072)))
        XCTAssertEqual(set.subset(first: 99), set)
        XCTAssertEqual(set.subset(first: 0).count, 0)
        let picked = set.subset([2, 0, 2])
        XCTAssertEqual(picked.labels, [4, 4, 4])
        XCTAssertEqual(Array(picked.image(0)), Array(set.image(2)))
        XCTAssertEqual(Array(picked.image(1)), Array(set.image(0)))
    }

    func testInterleavedRGB() {
        let rgb = sample().interleavedRGB(1)
        XCTAssertEqual(rgb.count, 3072)
        XCTAssertEqual(Array(rgb[0 ..< 6]), [11, 101, 201, 1, 101, 201])
        XCTAssertEqual(Array(rgb.suffix(3)), [11, 101, 201])
    }
}
