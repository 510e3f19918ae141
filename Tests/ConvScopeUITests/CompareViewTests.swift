import ConvKit
import ConvPresent
import ConvScopeUI
import Foundation
import XCTest

/// The A/B view (`--compare`): its keys, and its three pages drawn from a real comparison at 80x24.
final class CompareViewTests: XCTestCase {
    private let layout = ScreenLayout(width: 80, height: 24)

    /// A (the fixture's weights after a few steps) against B, the same model freshly initialised with another
    /// seed: their predictions differ on many of the 40 test images.
    private func compared(_ fixture: AppFixture) throws -> (ComparisonWorker, CheckpointComparison) {
        fixture.train(steps: 4)
        let a = fixture.session.copyNetwork().network
        let b = Network(plan: try ModelPlan(spec: a.spec), seed: 99)
        let worker = ComparisonWorker(a: a, b: .float(b), images: fixture.dataset.test)
        var result: CheckpointComparison?
        fixture.waitFor {
            if case .done(let done) = worker.progress { result = done }
            return result != nil
        }
        addTeardownBlock { worker.finish() }
        return (worker, try XCTUnwrap(result))
    }

    private func render(_ model: inout AppModel, _ fixture: AppFixture, _ worker: ComparisonWorker) -> CellGrid {
        AppScreen.render(
            model: &model, snapshot: fixture.session.snapshot, insight: nil, comparison: worker.progress,
            comparedExplanation: worker.explanation, width: 80, height: 24)
    }

    func testKeysPageStepThroughFlipsAndClose() throws {
        let fixture = try AppFixture()
        var model = fixture.makeModel()
        _ = model.handle(.character("D"), layout: layout)
        XCTAssertEqual(model.status?.text.contains("--compare"), true, "without a second checkpoint D says how to get one")

        model.compare = CompareView(nameA: "a.safetensors", nameB: "b.safetensors")
        _ = model.handle(.right, layout: layout)
        XCTAssertEqual(model.status?.text, "the flips are known once the comparison has finished")
        model.observeComparison(flips: [3, 7, 11])
        XCTAssertEqual(model.compare?.page, .weights)
        _ = model.handle(.right, layout: layout)
        XCTAssertEqual(model.compare?.page, .flips, "the first arrow opens the gallery where it stands")
        XCTAssertEqual(model.imageIndex, 3, "the other views follow the flipped image")
        _ = model.handle(.right, layout: layout)
        XCTAssertEqual(model.imageIndex, 7)
        _ = model.handle(.left, layout: layout)
        _ = model.handle(.left, layout: layout)
        XCTAssertEqual(model.imageIndex, 11, "the gallery wraps around")
        _ = model.handle(.tab, layout: layout)
        XCTAssertEqual(model.compare?.page, .weights)
        _ = model.handle(.backTab, layout: layout)
        XCTAssertEqual(model.compare?.page, .flips)
        let layer = model.layerSelection.selectedIndex
        _ = model.handle(.character("j"), layout: layout)
        XCTAssertEqual(model.layerSelection.selectedIndex, layer + 1, "j/k choose the explained layer")
        _ = model.handle(.escape, layout: layout)
        XCTAssertEqual(model.compare?.isShown, false)
        _ = model.handle(.character("D"), layout: layout)
        XCTAssertEqual(model.compare?.isShown, true)
        _ = model.handle(.character("5"), layout: layout)
        XCTAssertEqual(model.compare?.isShown, false, "a number key closes the view")
        XCTAssertEqual(model.selectedTab, .confusion, "and shows its panel")
        _ = model.handle(.character("D"), layout: layout)
        XCTAssertEqual(model.handle(.character("q"), layout: layout), [.quit], "q quits from the view too")
    }

    func testThePagesShowTheComparisonAt80x24() throws {
        let fixture = try AppFixture()
        let (worker, comparison) = try compared(fixture)
        XCTAssertGreaterThan(comparison.flips.count, 0, "an untrained copy flips some of 40 images")
        var model = fixture.makeModel()
        model.compare = CompareView(nameA: "a.safetensors", nameB: "b.safetensors")
        model.observeComparison(flips: comparison.flips.map(\.index))

        let weights = render(&model, fixture, worker)
        XCTAssertNotNil(row(weights, containing: "A/B: a.safetensors vs b.safetensors"))
        XCTAssertNotNil(row(weights, containing: ComparisonText.accuracies(comparison)))
        XCTAssertNotNil(row(weights, containing: ComparisonText.flipSummary(comparison)))
        for layer in comparison.layers {
            let text = try XCTUnwrap(row(weights, containing: " \(layer.layer) "), layer.layer)
            XCTAssertTrue(text.contains(String(format: "%.4f", try XCTUnwrap(layer.relativeChange))), text)
            XCTAssertTrue(text.contains("█"), "a bar of the change: \(text)")
        }
        XCTAssertTrue(weights.line(23).contains("←/→ flip"), "the status line lists the view's keys")

        _ = model.handle(.tab, layout: layout)
        let classes = render(&model, fixture, worker)
        for (index, name) in fixture.dataset.classNames.enumerated() {
            let text = try XCTUnwrap(row(classes, containing: name), name)
            let a = comparison.scoreA.perClassAccuracy[index] * 100, b = comparison.scoreB.perClassAccuracy[index] * 100
            XCTAssertTrue(text.contains(String(format: "%5.1f%%", a)) && text.contains(String(format: "%+6.1f", b - a)), text)
        }

        _ = model.handle(.right, layout: layout)
        let flip = comparison.flips[0]
        worker.explain(ComparisonWorker.Request(imageIndex: flip.index, layer: model.selectedLayer.name))
        fixture.waitFor { worker.explanation?.imageIndex == flip.index }
        let pair = try XCTUnwrap(worker.explanation)
        XCTAssertNotNil(pair.mapA)
        XCTAssertNotNil(pair.mapB)
        let difference = try XCTUnwrap(pair.difference)
        XCTAssertTrue(difference.values.allSatisfy { $0 >= -1 && $0 <= 1 })
        let gallery = render(&model, fixture, worker)
        let names = fixture.dataset.classNames
        XCTAssertNotNil(row(gallery, containing: "flip 1 of \(comparison.flips.count)"))
        let captions = try XCTUnwrap(row(gallery, containing: "B − A"))
        XCTAssertTrue(captions.contains("A: \(names[flip.predictionA])") && captions.contains("B: \(names[flip.predictionB])"), captions)
        XCTAssertTrue(captions.contains("#\(flip.index) \(names[flip.label])"), captions)
        XCTAssertNotNil(row(gallery, containing: "Grad-CAM at"))
        // Four pictures side by side: half blocks with colours in each quarter of an image row.
        let imageRow = try XCTUnwrap((0..<24).first { y in gallery.line(y).filter { $0 == "▀" }.count > 40 })
        for quarter in 0..<4 {
            let x = 2 + quarter * 19 + 8
            XCTAssertNotNil(gallery[x, imageRow].foreground, "picture \(quarter + 1) is drawn")
        }
    }

    func testAFailedComparisonSaysWhy() throws {
        let fixture = try AppFixture()
        let a = fixture.session.copyNetwork().network
        let fewer = Network(plan: try ModelPlan(spec: try ModelSpec("conv4,relu,gap,fc5"), classes: 5))
        let worker = ComparisonWorker(a: a, b: .float(fewer), images: fixture.dataset.test)
        addTeardownBlock { worker.finish() }
        fixture.waitFor {
            if case .failed = worker.progress { return true }
            return false
        }
        var model = fixture.makeModel()
        model.compare = CompareView(nameA: "a", nameB: "b")
        let grid = render(&model, fixture, worker)
        XCTAssertNotNil(row(grid, containing: "comparison failed: A predicts 10 classes and B 5"))
    }

    private func row(_ grid: CellGrid, containing text: String) -> String? {
        grid.lines.first { $0.contains(text) }
    }
}
