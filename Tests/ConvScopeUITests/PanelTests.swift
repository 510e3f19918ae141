import ConvKit
import ConvPresent
import ConvScopeUI
import Foundation
import XCTest

final class PanelTests: XCTestCase {
    func testProgressLineDropsFieldsFromTheEndWhenNarrow() throws {
        let fixture = try AppFixture()
        fixture.train(steps: 1)
        let snapshot = fixture.session.snapshot
        let wide = HeaderPanel.progressLine(snapshot, width: 200)
        XCTAssertTrue(wide.hasPrefix("epoch 1/2  │  step 1/4  │  lr "), wide)
        XCTAssertTrue(wide.contains("total 1/8"))
        XCTAssertTrue(wide.contains("▕"), "a progress bar when there is room")
        let narrow = HeaderPanel.progressLine(snapshot, width: 30)
        XCTAssertEqual(narrow, "epoch 1/2  │  step 1/4")
    }

    func testTilesGrowToFillTheRegionAndOverflowIsCounted() {
        let tiles = (0..<16).map { RGBImage(width: 32, height: 32, color: (UInt8($0 * 10), 0, 0)) }
        var grid = CellGrid(width: 67, height: 19)
        XCTAssertEqual(FeaturesPanel.drawTiles(tiles, into: &grid, in: grid.bounds), 16)
        let painted = grid.cells.filter { $0.glyph == "▀" }.count
        XCTAssertGreaterThan(painted, 16 * 8 * 4, "tiles of at least 8x8 pixels")
        XCTAssertEqual(grid[0, 0].foreground, Color(red: 0, green: 0, blue: 0))

        var small = CellGrid(width: 10, height: 3)
        let many = (0..<100).map { _ in RGBImage(width: 8, height: 8) }
        let shown = FeaturesPanel.drawTiles(many, into: &small, in: small.bounds)
        XCTAssertGreaterThan(shown, 0)
        XCTAssertLessThan(shown, 100)
    }

    func testSmoothingStartsAtTheFirstValueAndKeepsConstants() {
        let points = [5.0, 5, 5].enumerated().map { ChartPoint(x: Double($0.offset), y: $0.element) }
        XCTAssertEqual(CurvesPanel.smoothed(points).map(\.y), [5, 5, 5])
        let step = [0.0, 10].enumerated().map { ChartPoint(x: Double($0.offset), y: $0.element) }
        let smoothed = CurvesPanel.smoothed(step)
        XCTAssertEqual(smoothed[0].y, 0)
        XCTAssertGreaterThan(smoothed[1].y, 0)
        XCTAssertLessThan(smoothed[1].y, 10)
    }

    func testConfusionMatrixRowsAndAccuracy() {
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: 10), count: 10)
        for c in 0..<10 { confusion[c][c] = 8; confusion[c][(c + 1) % 10] = 2 }
        let test = SyntheticDataset.generate(seed: 1, trainCount: 0, testCount: 10).test
        var evaluation = Evaluator.evaluate(try! Network("tiny"), on: test)
        evaluation.confusion = confusion
        var grid = CellGrid(width: 54, height: 30)
        ConfusionPanel.draw(evaluation, classNames: Dataset.classNames, epoch: 3, into: &grid, in: grid.bounds)
        XCTAssertTrue(grid.line(0).hasPrefix("epoch 3: test accuracy"), grid.line(0))
        XCTAssertTrue(grid.line(1).hasPrefix("true\\  air aut bir cat"), grid.line(1))
        XCTAssertTrue(grid.line(2).hasPrefix("airpl   80  20   .   .   .   .   .   .   .   .  80%"), grid.line(2))
        XCTAssertEqual(grid[9, 2].background.map { $0.green > $0.red }, true, "the diagonal is green")
        XCTAssertEqual(grid[13, 2].background.map { $0.red > $0.green }, true, "mistakes are red")
        XCTAssertTrue(grid.lines.contains { $0.hasPrefix("truck ") && $0.contains("█") }, "per-class bars below")

        var empty = CellGrid(width: 40, height: 5)
        ConfusionPanel.draw(nil, classNames: Dataset.classNames, epoch: 0, into: &empty, in: empty.bounds)
        XCTAssertTrue(empty.line(0).hasPrefix("The confusion matrix appears after"))
    }

    func testSetupChoicesAndProgress() {
        var setup = SetupModel(placesTried: ["--data (not given)"], downloadDirectory: "/home/me/.cache/convscope")
        XCTAssertEqual(setup.handle(.character("x")), nil)
        XCTAssertEqual(setup.handle(.character("d")), .download)
        XCTAssertEqual(setup.phase, .downloading(nil))
        XCTAssertEqual(setup.handle(.character("s")), nil, "no second choice while downloading")
        XCTAssertEqual(setup.handle(.character("q")), .quit)
        setup.phase = .failed("no network")
        XCTAssertEqual(setup.handle(.character("s")), .synthetic)
        XCTAssertEqual(setup.handle(.interrupt), .quit)

        let text = SetupScreen.progressText(received: 81_788_928, total: 170_052_171, width: 70)
        XCTAssertTrue(text.hasPrefix("downloading ▕████"), text)
        XCTAssertTrue(text.hasSuffix(" 48.1%  78.0 / 162.2 MB"), text)

        XCTAssertEqual(SetupScreen.progressText(received: 3_145_728, total: nil, width: 70), "downloading: 3.0 MB received")
        setup.phase = .downloading(nil)
        var grid = CellGrid(width: 100, height: 24)
        SetupScreen.draw(setup, into: &grid, in: grid.bounds)
        let screen = grid.lines.joined(separator: "\n")
        for expected in ["CIFAR-10 was not found", "--data (not given)", "d  download CIFAR-10 now", "s  train on the built-in SYNTHETIC", "q  quit", "connecting"] {
            XCTAssertTrue(screen.contains(expected), expected)
        }
    }
}

/// The feature-map and filter grids use the room they have (issue 22 §6).
final class FeatureGridSizeTests: XCTestCase {
    func testAtTwoHundredBySixtyTheMapsOfConv1AreDrawnLargerThanEightPixels() {
        // The features slot at 200x60 holds about 102 x 27 cells for maps and filters together.
        let body = Rect(x: 0, y: 0, width: 102, height: 27)
        let split = FeaturesPanel.split(body, maps: (32, 32, 32), filters: (32, 3))
        let maps = FeaturesPanel.tileSize(count: 32, width: 32, height: 32, in: split.maps.splitTop(1).rest)
        let filters = FeaturesPanel.tileSize(count: 32, width: 3, height: 3, in: split.filters.splitTop(1).rest)
        XCTAssertGreaterThan(maps.width, 8, "the old fixed third for the filters left the maps at 8x8 pixels")
        XCTAssertGreaterThanOrEqual(filters.width, 3, "every filter at one cell per weight at least")
        XCTAssertTrue(split.maps.intersection(split.filters).isEmpty)
    }

    func testEverySizeGetsTheLargestTilesOfItsSplitAndNothingOverlaps() {
        // The features panel's body at 80x24 (78 x 15) up to the largest layouts.
        for (width, height) in [(78, 15), (100, 20), (140, 30), (200, 45)] {
            let body = Rect(x: 1, y: 1, width: width, height: height)
            let split = FeaturesPanel.split(body, maps: (64, 16, 16), filters: (64, 3))
            XCTAssertTrue(split.maps.intersection(split.filters).isEmpty, "\(width)x\(height)")
            XCTAssertEqual(split.maps.intersection(body), split.maps)
            XCTAssertEqual(split.filters.intersection(body), split.filters)
            let maps = FeaturesPanel.tileSize(count: 64, width: 16, height: 16, in: split.maps.splitTop(1).rest)
            XCTAssertGreaterThan(maps.width, 0, "\(width)x\(height)")
            let filters = FeaturesPanel.tileSize(count: 64, width: 3, height: 3, in: split.filters.splitTop(1).rest)
            XCTAssertGreaterThan(filters.width, 0, "\(width)x\(height): every filter is shown")
            // No other split of the same kind would draw the maps much larger while the filters still fit.
            let everything = FeaturesPanel.tileSize(count: 64, width: 16, height: 16, in: body.splitTop(1).rest)
            // (At 80x24 showing all 64 filters costs the maps half their width: 2 pixels, not 4.)
            XCTAssertGreaterThanOrEqual(Double(maps.width), 0.5 * Double(everything.width), "\(width)x\(height): \(maps) vs \(everything)")
        }
    }

    func testTilesGoUpToFullResolution() {
        let tiles = (0..<4).map { _ in RGBImage(width: 32, height: 32) }
        var grid = CellGrid(width: 140, height: 40)
        XCTAssertEqual(FeaturesPanel.drawTiles(tiles, into: &grid, in: grid.bounds), 4)
        let widest = (0..<grid.height).map { y in grid.line(y).split(separator: " ").map(\.count).max() ?? 0 }.max() ?? 0
        XCTAssertEqual(widest, 32, "a 32x32 map at one cell per pixel pair, no larger needed to fill 4 tiles")
    }
}
