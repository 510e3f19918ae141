import ConvKit
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
