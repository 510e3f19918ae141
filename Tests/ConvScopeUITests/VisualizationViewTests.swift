import ConvKit
import ConvRender
import ConvScopeUI
import Foundation
import XCTest

/// The features view's page of synthesised inputs (`o`): keys, the worker, the frame and the export.
final class VisualizationViewTests: XCTestCase {
    private let small = ScreenLayout(width: 80, height: 24)

    func testOTogglesThePageInTheFeaturesViewAndEExportsWhatIsShown() throws {
        var model = AppModel(layers: ModelSummary(try Network("tiny")).rows, classNames: Dataset.classNames, testLabels: [0, 1])
        XCTAssertEqual(model.handle(.character("o"), layout: small), [])
        XCTAssertEqual(model.featurePage, .maps, "o does nothing outside the features view")
        XCTAssertEqual(model.status?.text, "o works in the features view: press 3 first")
        _ = model.handle(.character("3"), layout: small)
        XCTAssertEqual(model.handle(.character("E"), layout: small), [.export(.grid)])
        _ = model.handle(.character("o"), layout: small)
        XCTAssertEqual(model.featurePage, .synthesised)
        XCTAssertEqual(model.handle(.character("E"), layout: small), [.export(.visualization)])
        XCTAssertEqual(model.visualizationRequest.layer, "conv1")
        _ = model.handle(.character("j"), layout: small)
        XCTAssertEqual(model.visualizationRequest.layer, model.selectedLayer.name, "the grid follows the selected layer")
        _ = model.handle(.character("1"), layout: small)
        XCTAssertEqual(model.handle(.character("E"), layout: small), [.export(.grid)], "off the features view E exports the maps")
        _ = model.handle(.character("3"), layout: small)
        _ = model.handle(.character("o"), layout: small)
        XCTAssertEqual(model.featurePage, .maps)
        XCTAssertTrue(AppKeys.bindings.contains { $0.key == "o" }, "the help lists the key the model handles")
    }

    func testTheGridFillsInFitsEightyByTwentyFourAndExports() throws {
        let fixture = try AppFixture()
        fixture.train(steps: 2)
        var model = fixture.makeModel()
        _ = model.handle(.character("3"), layout: small)
        _ = model.handle(.character("o"), layout: small)
        let worker = VisualizationWorker(session: fixture.session)
        var request = model.visualizationRequest
        request.options.steps = 12

        // Before the first batch: a placeholder line, not a blank panel.
        let empty = AppScreen.render(model: &model, snapshot: fixture.session.snapshot, insight: nil, width: 80, height: 24)
        XCTAssertTrue(empty.lines.contains { $0.contains("synthesising the inputs that maximise each channel") })

        let grid = try XCTUnwrap(worker.computeNow(request))
        XCTAssertTrue(grid.isComplete)
        XCTAssertNil(grid.error)
        XCTAssertEqual(grid.channels, 16)
        XCTAssertEqual(grid.finished, 16)
        let frame = AppScreen.render(
            model: &model, snapshot: fixture.session.snapshot, insight: nil, visualization: grid, width: 80, height: 24)
        XCTAssertTrue(frame.lines.allSatisfy { $0.count <= 80 })
        XCTAssertTrue(frame.lines.contains { $0.contains("conv1: inputs that maximise each of 16 channels") }, frame.lines.joined(separator: "\n"))
        XCTAssertTrue(frame.lines.contains { $0.contains("done in") && $0.contains("12 steps, seed 0") })
        XCTAssertTrue(frame.lines.contains { $0.contains("Synthesised inputs: conv1") })
        let halfBlocks = frame.lines.joined().filter { $0 == "▀" }.count
        XCTAssertGreaterThan(halfBlocks, 16 * 4, "every channel is drawn")

        // A partial grid says how far it has got.
        let partial = VisualizationGrid(
            request: grid.request, weightsVersion: grid.weightsVersion, channels: 16,
            tiles: grid.tiles.enumerated().map { $0.offset < 5 ? $0.element : nil }, values: grid.values, progress: 0.4)
        let busy = AppScreen.render(
            model: &model, snapshot: fixture.session.snapshot, insight: nil, visualization: partial, width: 80, height: 24)
        XCTAssertTrue(busy.lines.contains { $0.contains("optimising: 40% (5/16 done)") }, busy.lines.joined(separator: "\n"))

        let folder = NSTemporaryDirectory() + "convscope-visualize-export-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = try Exporter(directory: folder).exportVisualization(grid)
        XCTAssertTrue(path.hasSuffix("visualize-conv1-seed0-step2.png"), path)
        XCTAssertGreaterThan(try PNG.read(contentsOf: path).width, 4 * 64)
    }

    func testALayerChangeCancelsTheGridInProgress() throws {
        let fixture = try AppFixture()
        let worker = VisualizationWorker(session: fixture.session)
        var slow = VisualizationRequest(layer: "conv3", options: AppModel.visualizationOptions)
        slow.options.steps = 100_000
        worker.update(slow)
        fixture.waitFor { (worker.latest?.progress ?? 0) > 0 }
        var quick = VisualizationRequest(layer: "conv1", options: AppModel.visualizationOptions, limit: 2)
        quick.options.steps = 3
        let started = Date()
        worker.update(quick)
        fixture.waitFor(timeout: 60) { worker.latest?.isComplete == true }
        XCTAssertEqual(worker.latest?.request, quick)
        XCTAssertLessThan(Date().timeIntervalSince(started), 30, "the old grid stopped at its next step")
        worker.finish()
    }
}
