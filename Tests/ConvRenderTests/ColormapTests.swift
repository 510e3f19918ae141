import XCTest
import ConvKit
import ConvRender

final class ColormapTests: XCTestCase {
    func assertColor(_ c: Colormap.Color, _ expected: (Int, Int, Int), tolerance: Int = 1, _ message: String = "",
                     file: StaticString = #filePath, line: UInt = #line) {
        let got = (Int(c.r), Int(c.g), Int(c.b))
        XCTAssertTrue(abs(got.0 - expected.0) <= tolerance && abs(got.1 - expected.1) <= tolerance && abs(got.2 - expected.2) <= tolerance,
                      "\(message): got \(got), expected \(expected) ± \(tolerance)", file: file, line: line)
    }

    /// Rec. 709 luma of an RGB triple in [0, 1].
    func luma(_ c: (r: Float, g: Float, b: Float)) -> Float { 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b }

    func testViridisAndInfernoEndpointsMatchMatplotlib() {
        assertColor(Colormap.viridis.color(at: 0), (68, 1, 84), "viridis 0")
        assertColor(Colormap.viridis.color(at: 0.5), (33, 145, 140), "viridis 0.5")
        assertColor(Colormap.viridis.color(at: 1), (253, 231, 37), "viridis 1")
        assertColor(Colormap.inferno.color(at: 0), (0, 0, 4), "inferno 0")
        assertColor(Colormap.inferno.color(at: 1), (252, 255, 164), "inferno 1")
    }

    func testViridisAndInfernoLuminanceRisesMonotonically() {
        for map in [Colormap.viridis, .inferno] {
            var previous = -Float.infinity
            for i in 0...255 {
                let y = luma(map.rgb(at: Float(i) / 255))
                XCTAssertGreaterThan(y, previous, "\(map.name) luma at \(i)")
                previous = y
            }
            let first = map.entry(0), last = map.entry(255)
            XCTAssertLessThan(Int(first.r) + Int(first.g) + Int(first.b), Int(last.r) + Int(last.g) + Int(last.b))
        }
    }

    func testJetFollowsOpenCV() {
        let jet = Colormap.jet
        assertColor(jet.color(at: 0), (0, 0, 128), "jet 0 is dark blue")
        let middle = jet.color(at: 0.5)
        XCTAssertEqual(middle.g, 255, "jet 0.5 is greenish")
        XCTAssertTrue(middle.r < 140 && middle.b < 140 && middle.r > 110 && middle.b > 110, "\(middle)")
        assertColor(jet.color(at: 1), (128, 0, 0), "jet 1 is dark red")
        // cv2.applyColorMap(np.arange(256), COLORMAP_JET), converted BGR to RGB, at a few entries.
        let opencv: [(Int, (Int, Int, Int))] = [
            (32, (0, 0, 255)), (64, (0, 128, 255)), (96, (2, 255, 254)), (127, (126, 255, 130)),
            (128, (130, 255, 126)), (160, (255, 252, 0)), (192, (255, 124, 0)), (224, (252, 0, 0)),
        ]
        for (index, rgb) in opencv { assertColor(jet.entry(index), rgb, "jet entry \(index)") }
    }

    func testDivergingIsWhiteAtTheMiddleBlueBelowRedAbove() {
        let d = Colormap.diverging
        assertColor(d.color(at: 0.5), (255, 255, 255), tolerance: 0, "diverging 0.5")
        let low = d.color(at: 0), high = d.color(at: 1)
        XCTAssertGreaterThan(low.b, low.r)
        XCTAssertGreaterThan(high.r, high.b)
        XCTAssertGreaterThan(d.color(at: 0.4).b, d.color(at: 0.4).r)
        XCTAssertGreaterThan(d.color(at: 0.6).r, d.color(at: 0.6).b)
    }

    func testGreyClampingTableAndNames() {
        assertColor(Colormap.grey.color(at: 0), (0, 0, 0), tolerance: 0)
        assertColor(Colormap.grey.color(at: 1), (255, 255, 255), tolerance: 0)
        assertColor(Colormap.grey.color(at: 0.5), (128, 128, 128), tolerance: 0)
        for map in Colormap.all {
            XCTAssertTrue(map.color(at: -3) == map.color(at: 0), "\(map.name) clamps below")
            XCTAssertTrue(map.color(at: 7) == map.color(at: 1), "\(map.name) clamps above")
            XCTAssertTrue(map.color(at: .nan) == map.color(at: 0), "\(map.name) NaN")
            XCTAssertEqual(map.table.count, 768)
            for i in [0, 1, 77, 128, 254, 255] {
                XCTAssertTrue(map.entry(i) == map.color(at: Float(i) / 255), "\(map.name) table entry \(i)")
            }
            XCTAssertEqual(Colormap.named(map.name.uppercased()), map)
        }
        XCTAssertEqual(Colormap.named("gray"), .grey)
        XCTAssertNil(Colormap.named("rainbow"))
    }
}
