import ConvKit
import ConvPresent
import ConvScopeUI
import XCTest

/// Whole frames rendered from a real (paused) session into a cell grid, at 80x24 and 200x60.
final class AppScreenTests: XCTestCase {
    private var fixture: AppFixture!

    override func setUpWithError() throws {
        fixture = try AppFixture()
        fixture.train(steps: 5)  // one epoch (4 steps, evaluated) and one step more
    }

    override func tearDown() {
        fixture = nil
    }

    private func render(_ model: inout AppModel, width: Int, height: Int, insight: Insight? = nil) -> CellGrid {
        let shown = insight ?? fixture.insight(for: model)
        return AppScreen.render(model: &model, snapshot: fixture.session.snapshot, insight: shown, width: width, height: height)
    }

    private func row(_ grid: CellGrid, containing text: String) -> Int? {
        grid.lines.firstIndex { $0.contains(text) }
    }

    func testHeaderSaysSyntheticLoudlyAndShowsProgress() throws {
        var model = fixture.makeModel()
        let grid = render(&model, width: 80, height: 24)
        let title = grid.line(0)
        XCTAssertTrue(title.contains("SYNTHETIC DATA (not CIFAR-10)"), title)
        XCTAssertTrue(title.hasSuffix(" PAUSED "), title)
        let badge = grid[title.distance(from: title.startIndex, to: title.range(of: "SYNTHETIC")!.lowerBound), 0]
        XCTAssertTrue(badge.attributes.contains(.reverse), "visible without colours too")
        XCTAssertEqual(badge.foreground, Color(hex: 0xFF8700))
        XCTAssertTrue(grid.line(1).contains("epoch 2/2  │  step 1/4  │  lr "), grid.line(1))
        XCTAssertTrue(grid.line(1).contains("img/s"))
    }

    func testEightyByTwentyFourShowsOnePanelUnderTabs() throws {
        var model = fixture.makeModel()
        let curves = render(&model, width: 80, height: 24)
        XCTAssertEqual(curves.lines.count, 24)
        // Eight tabs share 80 columns: the spaces around the titles go first, then the two longest are
        // shortened by the same amount; every number key and most of every title stay visible.
        XCTAssertTrue(curves.line(2).contains("1 Curves│2 Layers│3 Features│4 Grad-CAM│5 Confusi…│6 Compres…│7 Health│8 Explain"), curves.line(2))
        XCTAssertTrue(curves.line(3).contains("Curves"))
        let braille = curves.cells.filter { (0x2801...0x28FF).contains($0.glyph.value) }
        XCTAssertGreaterThan(braille.count, 10, "the curves are drawn in Braille dots")
        XCTAssertTrue(curves.line(23).contains("? help  q quit"))

        let titles: [(Character, String)] = [("2", "Layers (j/k)"), ("3", "Features: conv1"), ("4", "Grad-CAM at conv1"), ("5", "Confusion")]
        for (key, title) in titles {
            _ = model.handle(.character(key), layout: ScreenLayout(width: 80, height: 24))
            let grid = render(&model, width: 80, height: 24)
            XCTAssertTrue(grid.line(3).contains(title), "tab \(key): \(grid.line(3))")
            XCTAssertNil(row(grid, containing: "Curves ─"), "one panel at a time")
        }
    }

    func testTwoHundredBySixtyShowsEveryPanelAtOnce() throws {
        var model = fixture.makeModel()
        let grid = render(&model, width: 200, height: 60)
        let text = grid.lines.joined(separator: "\n")
        for title in ["Layers (j/k)", "Curves", "Grad-CAM at conv1", "Features: conv1", "Confusion"] {
            XCTAssertTrue(text.contains(title), title)
        }
        XCTAssertNil(row(grid, containing: "1 Curves"), "no tab bar across the body")
        for layer in fixture.layers {
            XCTAssertNotNil(grid.lines.firstIndex { $0.contains("┃ \(layer.name) ") && $0.contains(" \(layer.outputShape) ") }, layer.name)
        }
        XCTAssertTrue(text.contains("out = (in - k + 2p)/s + 1 ="))
        XCTAssertTrue(text.contains("(32 - 3 + 2*1)/1 + 1 = 32"))
        XCTAssertTrue(text.contains("receptive field 3x3 px"))
        XCTAssertTrue(text.contains("test accuracy"), "the confusion matrix after the first epoch")
        XCTAssertTrue(text.contains("filters: 16 x 3x3 RGB"))
    }

    func testLayerSelectionMovesTheHighlightAndTheDetails() throws {
        var model = fixture.makeModel()
        for _ in 0..<3 { _ = model.handle(.character("j"), layout: ScreenLayout(width: 200, height: 60)) }
        let grid = render(&model, width: 200, height: 60)
        let conv2 = try XCTUnwrap(row(grid, containing: "conv2     "))
        let x = grid.line(conv2).distance(from: grid.line(conv2).startIndex, to: grid.line(conv2).range(of: "conv2")!.lowerBound)
        XCTAssertTrue(grid[x, conv2].attributes.contains(.reverse), "the selected row is highlighted")
        XCTAssertNotNil(row(grid, containing: "conv2: 16x16x16 -> 32x16x16"))
        XCTAssertNotNil(row(grid, containing: "receptive field 8x8 px"))
        XCTAssertNotNil(row(grid, containing: "Features: conv2"))
        XCTAssertNotNil(row(grid, containing: "conv2: 32 maps of 16x16"))
    }

    func testGradCAMShowsHalfBlockImagesAndBarsColouredByCorrectness() throws {
        var model = fixture.makeModel()
        _ = model.handle(.character("4"), layout: ScreenLayout(width: 80, height: 24))
        let insight = fixture.insight(for: model)
        let grid = render(&model, width: 80, height: 24, insight: insight)
        let imageRow = 5
        let halfBlocks = (0..<80).map { grid[$0, imageRow] }.filter { $0.glyph == "▀" && $0.foreground != nil && $0.background != nil }
        XCTAssertGreaterThan(halfBlocks.count, 60, "three images side by side")
        let explaining = try XCTUnwrap(row(grid, containing: "explaining"))
        for (rank, classIndex) in insight.ranking.prefix(3).enumerated() {
            let barRow = explaining + 1 + rank
            XCTAssertTrue(grid.line(barRow).hasPrefix("│ " + fixture.dataset.classNames[classIndex]), grid.line(barRow))
            let bar = (0..<80).map { grid[$0, barRow] }.first { $0.glyph == "█" || BarCharacters.partial.contains($0.glyph) }
            if let bar {
                XCTAssertEqual(bar.foreground, GradCAMPanel.barColor(classIndex, truth: insight.label, predicted: insight.predicted))
            }
        }
        XCTAssertEqual(GradCAMPanel.barColor(3, truth: 3, predicted: 5), AppColors.good)
        XCTAssertEqual(GradCAMPanel.barColor(5, truth: 3, predicted: 5), AppColors.bad)
        XCTAssertEqual(GradCAMPanel.barColor(7, truth: 3, predicted: 5), AppColors.neutral)
        XCTAssertNotNil(row(grid, containing: "(predicted)"))
    }

    func testFeatureStatisticsShowTheDeadReLUShare() throws {
        var model = fixture.makeModel()
        _ = model.handle(.character("j"), layout: ScreenLayout(width: 80, height: 24))
        _ = model.handle(.character("3"), layout: ScreenLayout(width: 80, height: 24))
        let grid = render(&model, width: 80, height: 24)
        XCTAssertNotNil(row(grid, containing: "relu1: 16 maps of 32x32"))
        XCTAssertNotNil(row(grid, containing: "dead ReLU"))
        _ = model.handle(.character("G"), layout: ScreenLayout(width: 80, height: 24))
        let flat = render(&model, width: 80, height: 24)
        XCTAssertNotNil(row(flat, containing: "fc1: a vector of 10 values"))
    }

    func testCAMNeedsGlobalPoolingAndSaysSo() throws {
        let plain = try AppFixture(model: "conv8,relu,maxpool,flatten,fc10")
        var model = plain.makeModel()
        model.method = .cam
        _ = model.handle(.character("4"), layout: ScreenLayout(width: 80, height: 24))
        let insight = plain.insight(for: model)
        let grid = AppScreen.render(model: &model, snapshot: plain.session.snapshot, insight: insight, width: 80, height: 24)
        XCTAssertNotNil(row(grid, containing: "CAM: CAM needs global average pooling"))
    }

    func testHelpOverlayListsEveryKey() throws {
        var model = fixture.makeModel()
        _ = model.handle(.character("?"), layout: ScreenLayout(width: 80, height: 24))
        let text = render(&model, width: 80, height: 24).lines.joined(separator: "\n")
        for binding in AppKeys.bindings {
            XCTAssertTrue(text.contains(binding.key), binding.key)
        }
        XCTAssertTrue(text.contains("? or Esc closes this help"))
    }

    func testQuitPromptAndStatusMessages() throws {
        var model = fixture.makeModel()
        _ = model.handle(.character("q"), layout: ScreenLayout(width: 80, height: 24))
        let grid = render(&model, width: 80, height: 24)
        XCTAssertNotNil(row(grid, containing: "5 unsaved training steps: save first?"))
        XCTAssertNotNil(row(grid, containing: "(y)es / (n)o / (c)ancel"))
        XCTAssertEqual(unsavedStepsText(1), "1 unsaved training step", "one step is singular")

        model.quitPrompt = nil
        model.status = StatusMessage("export failed: disk full", isError: true)
        let failed = render(&model, width: 80, height: 24)
        XCTAssertTrue(failed.line(23).contains("export failed: disk full"))
        XCTAssertTrue(failed[3, 23].attributes.contains(.reverse), "errors stand out")
    }

    func testTooSmallTerminalGetsAMessage() throws {
        var model = fixture.makeModel()
        let grid = render(&model, width: 50, height: 15)
        let text = grid.lines.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
        XCTAssertEqual(text, "Terminal too small: 50x15, ConvScope needs at least 60x18.")
    }
}

/// The eighth blocks a bar may end in.
private enum BarCharacters {
    static let partial: Set<Unicode.Scalar> = ["▏", "▎", "▍", "▌", "▋", "▊", "▉"]
}
