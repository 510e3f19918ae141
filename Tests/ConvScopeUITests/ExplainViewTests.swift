import ConvKit
import ConvRender
import ConvScopeUI
import Foundation
import XCTest

/// The explain view (8): the board of the current method group's maps with faithfulness scores, drawn
/// at 80x24 from boards the `ExplanationWorker` computed on a real (paused) session; its keys (M, e)
/// and the export (with the sanity curve); the mode key (R); the workers' cancellation when the selection changes.
final class ExplainViewTests: XCTestCase {
    private var fixture: AppFixture!
    private let small = ScreenLayout(width: 80, height: 24)

    override func setUpWithError() throws {
        fixture = try AppFixture()
        fixture.train(steps: 5)
    }

    override func tearDown() {
        fixture = nil
    }

    private func explainModel() -> AppModel {
        var model = fixture.makeModel()
        _ = model.handle(.character("8"), layout: small)
        return model
    }

    private func board(for model: AppModel) throws -> ExplanationBoard {
        let worker = ExplanationWorker(session: fixture.session, images: fixture.dataset.test)
        return try XCTUnwrap(worker.computeNow(model.explanationRequest))
    }

    func testEightyByTwentyFourShowsEveryMapOfTheGroupAndItsScoresNextToTheBaselines() throws {
        var model = explainModel()
        let board = try board(for: model)
        XCTAssertTrue(board.isComplete)
        XCTAssertEqual(board.entries.count, model.explainGroup.methods.count + BaselineMap.allCases.count)
        let grid = AppScreen.render(
            model: &model, snapshot: fixture.session.snapshot, insight: nil, explanations: board, width: 80, height: 24)
        let lines = grid.lines
        XCTAssertEqual(lines.count, 24)
        XCTAssertTrue(lines[3].contains("Explain at "), lines[3])
        XCTAssertTrue(lines.contains { $0.contains("CAM, gradient-weighted (M)") })
        // One caption per tile: the image's truth, then every method of the group.
        let captions = try XCTUnwrap(lines.first { $0.contains("true: ") })
        for method in model.explainGroup.methods { XCTAssertTrue(captions.contains(method.description), "\(method) in \(captions)") }
        // One score row per method and per baseline, with numbers in them.
        for title in model.explainGroup.methods.map(\.description) + BaselineMap.allCases.map(\.description) {
            let row = try XCTUnwrap(lines.first { $0.contains("│ \(title) ") }, title)
            XCTAssertNotNil(row.range(of: #"\d\.\d{3}"#, options: .regularExpression), row)
        }
        XCTAssertTrue(lines.contains { $0.contains("done · e exports the board") })
        XCTAssertTrue(lines[22].hasPrefix("╰"), "the frame closes above the status line: \(lines[22])")
        // The maps are coloured half blocks, not blank cells.
        let mapRow = try XCTUnwrap(lines.firstIndex { $0.contains("CAM, gradient-weighted") }) + 2
        let coloured = (0..<80).filter { grid[$0, mapRow].glyph == "▀" }.count
        XCTAssertGreaterThan(coloured, 50, lines[mapRow])
    }

    func testSignedPixelMapsUseTheDivergingPaletteWithAWhiteZero() throws {
        var model = explainModel()
        _ = model.handle(.character("M"), layout: small)
        _ = model.handle(.character("M"), layout: small)
        XCTAssertEqual(model.explainGroup, .pixelGradients)
        let board = try board(for: model)
        let entry = try XCTUnwrap(board.entries.first { $0.method == .pixel(.integratedGradients) })
        let integrated = try XCTUnwrap(board.heatmap(of: entry))
        XCTAssertEqual(integrated.width, 32, "pixel maps at full resolution")
        // Diverging: near-zero attributions are near white, both signs appear (reddish and bluish pixels).
        let pixels = stride(from: 0, to: integrated.pixels.count, by: 3).map { (integrated.pixels[$0], integrated.pixels[$0 + 1], integrated.pixels[$0 + 2]) }
        XCTAssertTrue(pixels.contains { $0.0 > 200 && $0.1 > 200 && $0.2 > 200 }, "white middle")
        XCTAssertTrue(pixels.contains { Int($0.0) > Int($0.2) + 40 }, "red for positive")
        XCTAssertTrue(pixels.contains { Int($0.2) > Int($0.0) + 40 }, "blue for negative")
        let grid = AppScreen.render(
            model: &model, snapshot: fixture.session.snapshot, insight: nil, explanations: board, width: 80, height: 24)
        XCTAssertTrue(grid.lines.contains { $0.contains("Integrated…") || $0.contains("Integrated Gradients ±") })
    }

    func testABoardForAnotherSelectionIsNeverShownAsThisOne() throws {
        var model = explainModel()
        let old = try board(for: model)
        _ = model.handle(.right, layout: small)
        let grid = AppScreen.render(
            model: &model, snapshot: fixture.session.snapshot, insight: nil, explanations: old, width: 80, height: 24)
        let lines = grid.lines
        XCTAssertTrue(lines.contains { $0.contains("image #1 · … ·") }, lines.joined(separator: "\n"))
        XCTAssertTrue(lines.contains { $0.contains("starting…") })
        XCTAssertFalse(lines.contains { $0.contains("true: ") }, "no stale image")
        let scoreRow = try XCTUnwrap(lines.first { $0.contains("│ Grad-CAM ") })
        XCTAssertNil(scoreRow.range(of: #"\d\.\d{3}"#, options: .regularExpression), "no stale scores: \(scoreRow)")
    }

    func testGroupAndExportKeysBelongToTheExplainView() throws {
        var model = fixture.makeModel()
        XCTAssertEqual(model.handle(.character("M"), layout: small), [])
        XCTAssertEqual(model.explainGroup, .gradientCAM, "M outside the view changes nothing")
        XCTAssertEqual(model.status?.text, "M works in the explain view: press 8 first")
        XCTAssertEqual(model.handle(.character("e"), layout: small), [.export(.heatmap)])
        _ = model.handle(.character("8"), layout: small)
        XCTAssertEqual(model.selectedTab, .explain)
        XCTAssertEqual(model.handle(.character("e"), layout: small), [.export(.explanations)])
        var seen: [ExplainGroup] = []
        for _ in ExplainGroup.allCases {
            _ = model.handle(.character("M"), layout: small)
            seen.append(model.explainGroup)
        }
        XCTAssertEqual(seen, [.otherCAM, .pixelGradients, .perturbation, .gradientCAM], "M cycles and wraps")
        XCTAssertEqual(Set(ExplainGroup.allCases.flatMap(\.methods)), Set(ExplanationMethod.allCases), "every method has a group")
        XCTAssertTrue(ExplainGroup.allCases.allSatisfy { $0.methods.count <= 5 }, "one row of tiles at 80 columns")
        XCTAssertEqual(model.explanationRequest.methods, ExplainGroup.gradientCAM.methods)
    }

    func testExportWritesTheBoardAndRefusesAnEmptyOne() throws {
        let model = explainModel()
        let board = try board(for: model)
        let folder = NSTemporaryDirectory() + "explain-export-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let exporter = Exporter(directory: folder)
        let path = try exporter.exportBoard(board, group: model.explainGroup.rawValue, classNames: model.classNames)
        XCTAssertTrue(path.hasSuffix("explain-gradientCAM-\(model.selectedLayer.name)-img0-step\(board.weightsVersion).png"), path)
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: path))
        XCTAssertEqual(Array(bytes.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "a PNG")
        XCTAssertGreaterThan(bytes.count, 1000)
    }

    func testANewSelectionCancelsTheBoardInProgress() throws {
        let worker = ExplanationWorker(session: fixture.session, images: fixture.dataset.test)
        defer { worker.finish() }
        var slow = AttributionOptions()
        slow.masks = 30_000  // RISE long enough to be caught running
        let first = ExplanationRequest(imageIndex: 0, layer: "conv1", methods: [.pixel(.rise)], options: slow)
        worker.update(first)
        fixture.waitFor { worker.latest?.progress?.title == "RISE" }
        let second = ExplanationRequest(imageIndex: 1, layer: "conv1", methods: [.activation(.gradCAM)])
        worker.update(second)
        // The second board completes and is the one shown: the first, abandoned, never overwrites it.
        fixture.waitFor(timeout: 60) { worker.latest?.isComplete == true }
        let board = try XCTUnwrap(worker.latest)
        XCTAssertEqual(board.request, second)
        XCTAssertEqual(board.entries.first?.method, .activation(.gradCAM))
        XCTAssertNotNil(board.entries.first.flatMap(board.heatmap(of:)))
        // Off screen: nil cancels and forgets.
        worker.update(nil)
        XCTAssertNil(worker.latest)
    }
    // MARK: The sanity curve

    private func weightsSum() -> Double {
        fixture.session.copyNetwork().network.parameters.reduce(0) { sum, parameter in
            sum + (0..<parameter.count).reduce(0) { $0 + Double(parameter.value.base[$1]) }
        }
    }

    func testTheSanityCurveOfTheSelectedMethodFitsBesideTheScoresAndLeavesTrainingAlone() throws {
        var model = explainModel()
        _ = model.handle(.character("m"), layout: small)
        XCTAssertEqual(model.explainMethod, .activation(.gradCAMPlusPlus), "m in the explain view picks the group's next method")
        XCTAssertEqual(model.method, .gradCAM, "and leaves the Grad-CAM view's method alone")
        let board = try board(for: model)
        let before = weightsSum()
        let worker = SanityWorker(session: fixture.session, images: fixture.dataset.test)
        let curve = try XCTUnwrap(worker.computeNow(model.sanityRequest))
        XCTAssertEqual(weightsSum(), before, "the randomisation works on a copy")
        XCTAssertTrue(curve.isComplete)
        XCTAssertNil(curve.error)
        XCTAssertEqual(curve.points.map(\.layer), curve.layers)
        XCTAssertEqual(curve.layers.first, fixture.session.copyNetwork().network.allLayers.last { $0 is Linear }?.name, "the classifier first")
        XCTAssertTrue(curve.points.allSatisfy { (-1...1).contains($0.spearman) && $0.ssim.isFinite })

        let grid = AppScreen.render(
            model: &model, snapshot: fixture.session.snapshot, insight: nil, explanations: board, sanity: curve, width: 80, height: 24)
        let lines = grid.lines
        XCTAssertEqual(lines.count, 24)
        XCTAssertTrue(lines[22].hasPrefix("╰"), "the frame closes above the status line: \(lines[22])")
        XCTAssertTrue(lines.contains { $0.contains("▸Grad-CAM++") || $0.contains("▸Grad-CA") }, lines.joined(separator: "\n"))
        let header = try XCTUnwrap(lines.first { $0.contains("scores, this image") })
        XCTAssertTrue(header.contains("cascade") && header.contains("ρ") && header.contains("SSIM"), header)
        // Every randomised layer (the tiny model has few) with its two scores, beside the score table.
        for point in curve.points {
            let numbers = String(format: "%.2f %5.2f", point.spearman, point.ssim)
            XCTAssertTrue(lines.contains { $0.contains(" \(point.layer) ") && $0.contains(numbers) }, lines.joined(separator: "\n"))
        }
        // Scores still there for every method and baseline.
        for title in model.explainGroup.methods.map(\.description) + BaselineMap.allCases.map(\.description) {
            let row = try XCTUnwrap(lines.first { $0.contains("│ \(title) ") }, title)
            XCTAssertNotNil(row.range(of: #"\d\.\d{3}"#, options: .regularExpression), row)
        }
        XCTAssertTrue(lines.contains { $0.contains("done · e exports the board") })
    }

    func testACurveForAnotherMethodIsNeverShownAndLongCascadesAreSampled() throws {
        var model = explainModel()
        let board = try board(for: model)
        let worker = SanityWorker(session: fixture.session, images: fixture.dataset.test)
        let old = try XCTUnwrap(worker.computeNow(model.sanityRequest))
        _ = model.handle(.character("m"), layout: small)
        let lines = AppScreen.render(
            model: &model, snapshot: fixture.session.snapshot, insight: nil, explanations: board, sanity: old, width: 80, height: 24
        ).lines
        for point in old.points {
            XCTAssertFalse(lines.contains { $0.contains(String(format: "%.2f %5.2f", point.spearman, point.ssim)) }, "no stale curve")
        }
        XCTAssertEqual(ExplainPanel.sampledIndices(count: 6, rows: 8), [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(ExplainPanel.sampledIndices(count: 21, rows: 8), [0, 2, 5, 8, 11, 14, 17, 20], "the top and conv1 always")
    }

    func testRSwitchesTheCurveToIndependentRandomisationAndBackInTheTitleTooAndOnlyInTheView() throws {
        var outside = fixture.makeModel()
        XCTAssertEqual(outside.handle(.character("R"), layout: small), [])
        XCTAssertEqual(outside.sanityMode, .cascading, "R outside the view changes nothing")
        XCTAssertEqual(outside.status?.text, "R works in the explain view: press 8 first")

        var model = explainModel()
        let board = try board(for: model)
        let worker = SanityWorker(session: fixture.session, images: fixture.dataset.test)
        let cascading = try XCTUnwrap(worker.computeNow(model.sanityRequest))
        XCTAssertEqual(cascading.request.mode, .cascading)
        XCTAssertEqual(model.handle(.character("R"), layout: small), [])
        XCTAssertEqual(model.sanityMode, .independent)
        XCTAssertEqual(model.sanityRequest.mode, .independent, "the worker is asked for the other test")
        // The cascading curve is not this request's: it is never drawn as the independent one.
        let stale = AppScreen.render(
            model: &model, snapshot: fixture.session.snapshot, insight: nil, explanations: board, sanity: cascading, width: 80, height: 24
        ).lines
        XCTAssertTrue(stale[3].contains("R sanity: independent"), stale[3])
        for point in cascading.points.dropFirst() {
            XCTAssertFalse(stale.contains { $0.contains(" \(point.layer) ") && $0.contains(String(format: "%.2f %5.2f", point.spearman, point.ssim)) })
        }

        let independent = try XCTUnwrap(worker.computeNow(model.sanityRequest))
        XCTAssertTrue(independent.isComplete)
        XCTAssertEqual(independent.points.map(\.layer), cascading.points.map(\.layer))
        // Randomising the classifier alone is the same first step in both tests (same seed); below it the
        // cascade has every layer above random too, so the maps, and their scores, part.
        XCTAssertEqual(independent.points.first, cascading.points.first)
        XCTAssertTrue(
            zip(independent.points, cascading.points).dropFirst().contains { $0.spearman != $1.spearman || $0.ssim != $1.ssim },
            "independent: \(independent.points), cascading: \(cascading.points)")
        let lines = AppScreen.render(
            model: &model, snapshot: fixture.session.snapshot, insight: nil, explanations: board, sanity: independent, width: 80, height: 24
        ).lines
        XCTAssertEqual(lines.count, 24)
        XCTAssertTrue(lines[22].hasPrefix("╰"), "the frame closes above the status line: \(lines[22])")
        let header = try XCTUnwrap(lines.first { $0.contains("scores, this image") })
        XCTAssertTrue(header.contains("alone") && header.contains("SSIM"), header)
        for point in independent.points {
            let numbers = String(format: "%.2f %5.2f", point.spearman, point.ssim)
            XCTAssertTrue(lines.contains { $0.contains(" \(point.layer) ") && $0.contains(numbers) }, lines.joined(separator: "\n"))
        }
        _ = model.handle(.character("R"), layout: small)
        XCTAssertEqual(model.sanityMode, .cascading, "R toggles back")
        let back = AppScreen.render(
            model: &model, snapshot: fixture.session.snapshot, insight: nil, explanations: board, sanity: cascading, width: 80, height: 24
        ).lines
        XCTAssertTrue(back[3].contains("R sanity: cascading"), back[3])
        XCTAssertTrue(back.contains { $0.contains("cascade") && $0.contains("SSIM") })
    }

    /// The pixels of `image` with `color`, in rows `rows`.
    private func count(_ color: RGBImage.Color, in image: RGBImage, rows: Range<Int>) -> Int {
        rows.reduce(0) { total, y in total + (0..<image.width).filter { image[$0, y] == color }.count }
    }

    func testTheExportDrawsTheSanityCurveUnderTheBoardAndSaysWhenItIsIncomplete() throws {
        var model = explainModel()
        _ = model.handle(.character("m"), layout: small)
        let board = try board(for: model)
        let worker = SanityWorker(session: fixture.session, images: fixture.dataset.test)
        let curve = try XCTUnwrap(worker.computeNow(model.sanityRequest))
        XCTAssertTrue(curve.isComplete)
        let folder = NSTemporaryDirectory() + "explain-sanity-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = try Exporter(directory: folder).exportBoard(
            board, sanity: model.sanityRequest, curve: curve, group: model.explainGroup.rawValue, classNames: model.classNames)
        let image = try PNG.read(contentsOf: path)
        let plain = try Exporter.boardPicture(board, classNames: model.classNames)
        XCTAssertEqual(image.width, plain.width)
        XCTAssertEqual(image.height, plain.height + SanityChart.standardHeight, "the chart under the board")
        XCTAssertEqual(image.cropped(x: 0, y: 0, width: plain.width, height: plain.height), plain, "the board itself unchanged")
        // Each layer's scores are markers where the chart's scale puts them: SSIM's always on top, rho's
        // wherever the two do not overlap.
        let chart = SanityChart(layers: curve.layers, width: image.width)
        let top = plain.height
        for (index, point) in curve.points.enumerated() {
            let x = chart.x(at: index)
            XCTAssertTrue(image[x, top + chart.y(for: point.ssim)] == SanityChart.ssimColor, "SSIM \(point.ssim) at \(point.layer)")
            guard abs(chart.y(for: point.spearman) - chart.y(for: point.ssim)) > SanityChart.markerSize else { continue }
            XCTAssertTrue(image[x, top + chart.y(for: point.spearman)] == SanityChart.spearmanColor, "rho \(point.spearman) at \(point.layer)")
        }
        XCTAssertGreaterThan(chart.y(for: -1) - chart.y(for: 1), 100, "a readable scale")
        XCTAssertGreaterThan(count(SanityChart.ssimColor, in: image, rows: top..<image.height), curve.points.count * SanityChart.markerSize)
        XCTAssertEqual(count(SanityChart.noteColor, in: image, rows: top..<image.height), 0, "a complete curve has no note")

        // Still computing: the layers done so far, and a note that says the rest is missing.
        var slow = AttributionOptions()
        slow.masks = 30_000
        let running = SanityRequest(imageIndex: 0, layer: "conv1", method: .pixel(.rise), options: slow)
        worker.update(running)
        fixture.waitFor { (worker.latest?.progress ?? 0) > 0 }
        let partial = try XCTUnwrap(worker.latest)
        worker.finish()
        XCTAssertFalse(partial.isComplete)
        XCTAssertLessThan(partial.points.count, partial.layers.count)
        let unfinished = try Exporter.boardPicture(board, sanity: running, curve: partial, classNames: model.classNames)
        XCTAssertEqual(unfinished.height, plain.height + SanityChart.standardHeight)
        XCTAssertGreaterThan(count(SanityChart.noteColor, in: unfinished, rows: plain.height..<unfinished.height), 20, "the note")

        // None yet, or one for another selection (cancelled by a new one): a line says the curve is not there.
        let none = try Exporter.boardPicture(board, sanity: model.sanityRequest, curve: nil, classNames: model.classNames)
        let stale = try Exporter.boardPicture(board, sanity: model.sanityRequest, curve: partial, classNames: model.classNames)
        XCTAssertEqual(stale, none, "a curve for another request is never drawn as this one")
        XCTAssertGreaterThan(none.height, plain.height)
        XCTAssertLessThan(none.height, plain.height + SanityChart.standardHeight / 4, "one line, no chart")
        XCTAssertGreaterThan(count(SanityChart.noteColor, in: none, rows: plain.height..<none.height), 20)
        XCTAssertEqual(count(SanityChart.ssimColor, in: none, rows: plain.height..<none.height), 0)
    }

    func testANewSelectionCancelsTheSanityCascadeInProgress() throws {
        let worker = SanityWorker(session: fixture.session, images: fixture.dataset.test)
        defer { worker.finish() }
        var slow = AttributionOptions()
        slow.masks = 30_000
        let first = SanityRequest(imageIndex: 0, layer: "conv1", method: .pixel(.rise), options: slow)
        worker.update(first)
        fixture.waitFor { (worker.latest?.progress ?? 0) > 0 }
        let second = SanityRequest(imageIndex: 1, layer: "conv1", method: .activation(.gradCAM))
        worker.update(second)
        fixture.waitFor(timeout: 60) { worker.latest?.isComplete == true }
        let curve = try XCTUnwrap(worker.latest)
        XCTAssertEqual(curve.request, second)
        XCTAssertEqual(curve.points.count, curve.layers.count)
        worker.update(nil)
        XCTAssertNil(worker.latest)
    }
}
