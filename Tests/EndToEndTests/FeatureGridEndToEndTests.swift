import Foundation
import XCTest

/// The feature-map grid in the real app uses the room it has at 80x24 and at 200x60 (issue 22 §6).
final class FeatureGridEndToEndTests: XCTestCase {
    private var driver: TmuxDriver?

    override func tearDown() {
        driver?.close()
        driver = nil
    }

    /// The widest run of half blocks in a row: the width in cells (pixels) of the largest tile drawn.
    private func widestTile(_ screen: [String]) -> Int {
        screen.map { line in line.split(whereSeparator: { $0 != "▀" }).map(\.count).max() ?? 0 }.max() ?? 0
    }

    func testConv1MapsGrowWithTheTerminal() throws {
        try TmuxDriver.requireTmux()
        let binary = try TmuxDriver.binary()
        let tmux = try TmuxDriver(width: 200, height: 60)
        driver = tmux
        try tmux.type("\(binary) --data synthetic --model simple --epochs 30 --checkpoint run.safetensors; echo EXIT=$?")
        try tmux.waitFor(text: "RUNNING")
        try tmux.press("Space")
        try tmux.waitFor(text: "PAUSED")
        try tmux.press("3")
        let wide = try tmux.waitFor("conv1's maps at 200x60") { $0.contains { $0.contains("feature maps, image #0") } && self.widestTile($0) > 0 }
        // 32 maps of 32x32 and 32 RGB filters in the 102 x 30 slot: the old fixed third for the filters drew 8-pixel maps.
        XCTAssertGreaterThanOrEqual(widestTile(wide), 10, wide.joined(separator: "\n"))
        XCTAssertFalse(wide.contains { $0.contains("the rest do not fit") })
        try tmux.resize(width: 80, height: 24)
        let small = try tmux.waitFor("conv1's maps at 80x24") { screen in
            screen.allSatisfy { $0.count <= 80 } && screen.contains { $0.contains("feature maps") } && self.widestTile(screen) > 0
        }
        XCTAssertGreaterThanOrEqual(widestTile(small), 2, small.joined(separator: "\n"))
        XCTAssertTrue(small.contains { $0.contains("filters: 32 x 3x3 RGB") && !$0.contains("first") }, small.joined(separator: "\n"))
        try tmux.press("q")
        try tmux.waitFor("the quit dialog") { $0.contains { $0.contains("save first?") } }
        try tmux.press("n")
        try tmux.waitFor(text: "EXIT=0")
    }
}
