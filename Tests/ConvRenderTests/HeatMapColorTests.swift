import ConvKit
import ConvRender
import XCTest

/// Heat maps coloured (ConvRender); their values are ConvKit's `HeatMapTests`.
final class HeatMapColorTests: XCTestCase {
    func testSignedNormalisedZeroIsWhiteOnTheDivergingMap() {
        let colored = HeatMap(width: 3, height: 1, values: [-2, 0, 1]).signedNormalized().colored(.diverging)
        XCTAssertTrue(colored[1, 0] == (255, 255, 255))
    }

    func testColouringUsesTheColormap() {
        let map = HeatMap(width: 3, height: 1, values: [0, 0.5, 1])
        let image = map.colored(.jet)
        XCTAssertTrue(image[0, 0] == Colormap.jet.entry(0))
        XCTAssertTrue(image[1, 0] == Colormap.jet.entry(128))
        XCTAssertTrue(image[2, 0] == Colormap.jet.entry(255))
        XCTAssertEqual(image.width, 3)
    }
}
