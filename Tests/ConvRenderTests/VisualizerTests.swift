import ConvKit
import ConvRender
import XCTest

final class VisualizerTests: XCTestCase {
    func testOverlayOfAConstantMapIsTheColormapColourBlendedWithTheImage() {
        let picture = RGBImage(width: 32, height: 32, color: (200, 100, 40))
        let map = ActivationMap(
            layer: "x", classIndex: 0, method: .gradCAM, width: 4, height: 4, values: [Float](repeating: 0.7, count: 16),
            logits: [0])
        let (heat, overlay) = Visualizer.overlay(image: picture, map: map, size: 16, colormap: .jet)
        let bottom = Colormap.jet.color(at: 0)
        for p in stride(from: 0, to: heat.pixels.count, by: 3) {
            XCTAssertEqual(heat.pixels[p], bottom.r)
            XCTAssertEqual(Int(overlay.pixels[p]), (Int(bottom.r) + 200 + 1) / 2, accuracy: 1)
            XCTAssertEqual(Int(overlay.pixels[p + 1]), (Int(bottom.g) + 100 + 1) / 2, accuracy: 1)
            XCTAssertEqual(Int(overlay.pixels[p + 2]), (Int(bottom.b) + 40 + 1) / 2, accuracy: 1)
        }
    }
}
