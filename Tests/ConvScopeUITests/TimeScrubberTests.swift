import ConvKit
import ConvRender
import ConvScopeUI
import Foundation
import XCTest

/// The time scrubber in the app: the keys move one cursor through the run's snapshots, the header says where it
/// stands and what the history costs, the views read the weights of that time, and diff mode shows changes.
final class TimeScrubberTests: XCTestCase {
    private var fixture: AppFixture!
    private let layout = ScreenLayout(width: 80, height: 24)

    override func setUpWithError() throws {
        fixture = try AppFixture()
        fixture.train(steps: 6)  // snapshots at steps 0 and 4 (the first epoch's end, evaluated); live at 6
    }

    override func tearDown() {
        fixture = nil
    }

    private func press(_ keys: String, _ model: inout AppModel) {
        for key in keys { _ = model.handle(.character(key), layout: layout) }
    }

    func testKeysStepBackAndForwardThroughTheSnapshotsAndBackToLive() throws {
        var model = fixture.makeModel()
        XCTAssertEqual(model.time.history.snapshots.map(\.step), [0, 4])
        XCTAssertTrue(model.time.isLive)
        press("[", &model)
        XCTAssertEqual(model.time.cursor, 4, "from live, the newest snapshot older than the live weights")
        XCTAssertEqual(model.status?.text.hasPrefix("time: epoch 1 step 4 (snapshot 2 of 2)"), true, model.status?.text ?? "")
        press("[", &model)
        XCTAssertEqual(model.time.cursor, 0)
        press("[", &model)
        XCTAssertEqual(model.time.cursor, 0)
        XCTAssertEqual(model.status?.text, "epoch 0 step 0 is the oldest snapshot kept")
        press("]", &model)
        XCTAssertEqual(model.time.cursor, 4)
        press("]", &model)
        XCTAssertNil(model.time.cursor, "past the newest: live")
        press("]", &model)
        XCTAssertEqual(model.status?.text.hasPrefix("already live"), true)
        press("[[\\", &model)
        XCTAssertNil(model.time.cursor, "\\ goes straight back to live")
        XCTAssertEqual(model.selectedTab, .curves, "no time key touches anything else")
        XCTAssertEqual(model.runState, .paused)
    }

    func testWithoutSnapshotsTheKeysSaySoAndTrainingKeysAreUntouched() throws {
        var model = AppModel(layers: fixture.layers, classNames: fixture.dataset.classNames, testLabels: fixture.dataset.test.labels)
        XCTAssertEqual(model.handle(.character("["), layout: layout), [])
        XCTAssertEqual(model.status?.text.hasPrefix("no weight snapshots yet"), true)
        XCTAssertEqual(model.handle(.character("t"), layout: layout), [])
        XCTAssertNil(model.time.mark)
    }

    func testTheHeaderShowsTheTimeAndTheHistorysMemoryAt80x24() throws {
        var model = fixture.makeModel()
        let live = AppScreen.render(model: &model, snapshot: fixture.session.snapshot, insight: nil, width: 160, height: 40)
        XCTAssertTrue(live.line(1).contains("time: live · history 2,"), live.line(1))
        press("[", &model)
        let past = AppScreen.render(model: &model, snapshot: fixture.session.snapshot, insight: nil, width: 80, height: 24)
        let header = past.line(1)
        XCTAssertTrue(header.contains("◂ time: epoch 1 step 4 (2/2) · "), header)
        XCTAssertTrue(header.contains("live ▸"), header)
        XCTAssertTrue(past[2, 1].attributes.contains(.reverse), "the time shown stands out, with or without colours")
        XCTAssertLessThanOrEqual(header.trimmingCharacters(in: .whitespaces).count, 80)
    }

    func testTheViewsReadTheWeightsOfTheTimeShown() throws {
        var model = fixture.makeModel()
        let source = TimeCursorSource(live: fixture.session)
        let worker = InsightWorker(session: source, images: fixture.dataset.test)
        model.layerSelection.select(0)  // conv1: filters
        let now = worker.computeNow(model.insightRequest)
        XCTAssertEqual(now.weightsVersion, 6)
        press("[[", &model)
        source.show(model.time.shown)
        let then = worker.computeNow(model.insightRequest)
        XCTAssertEqual(then.weightsVersion, 0)
        let filtersNow = try XCTUnwrap(now.filters), filtersThen = try XCTUnwrap(then.filters)
        XCTAssertNotEqual(filtersNow.weights, filtersThen.weights, "step 0's filters are the initialisation")
        XCTAssertEqual(
            filtersThen.weights, try XCTUnwrap(AppFixtureCheckpoint.filters(of: model.time.shown!, like: fixture)),
            "exactly the snapshot's weights")

        // Diff mode: filters and the heatmap as the change since the mark.
        let change = now.change(since: then)
        XCTAssertEqual(change.filters!.weights, zip(filtersNow.weights, filtersThen.weights).map { $0 - $1 })
        if let mapNow = now.activationMap, let mapThen = then.activationMap {
            XCTAssertEqual(change.activationMap!.values, zip(mapNow.values, mapThen.values).map { $0 - $1 })
        }
        XCTAssertEqual(change.predicted, now.predicted, "the prediction stays the time shown's")
    }

    func testAMoveOfTheCursorStartsTheInsightAtOnceNotAfterTheRefreshInterval() throws {
        var model = fixture.makeModel()
        let source = TimeCursorSource(live: fixture.session)
        // An interval no test outlives: without the kick, a new time would never be computed here.
        let worker = InsightWorker(session: source, images: fixture.dataset.test, refreshInterval: 3600)
        worker.update(model.insightRequest, weightsVersion: 6)
        fixture.waitFor { worker.latest?.weightsVersion == 6 }
        press("[[", &model)
        source.show(model.time.shown)
        worker.update(model.insightRequest, weightsVersion: 0)
        worker.finish()
        XCTAssertEqual(worker.latest?.weightsVersion, 6, "within the interval, new weights alone wait")
        worker.kick()
        worker.update(model.insightRequest, weightsVersion: 0)
        fixture.waitFor { worker.latest?.weightsVersion == 0 }
    }

    func testTheExplanationBoardShowsEachMapsChangeSinceTheMarkAt80x24AndLarger() throws {
        var model = fixture.makeModel()
        press("8[[t\\", &model)  // mark step 0, back to live (step 6)
        XCTAssertEqual(model.time.mark, 0)
        XCTAssertNil(model.time.cursor)
        let shown = TimeCursorSource(live: fixture.session), marked = TimeCursorSource(live: fixture.session)
        marked.show(model.time.marked)
        let now = try XCTUnwrap(ExplanationWorker(session: shown, images: fixture.dataset.test).computeNow(model.explanationRequest))
        let markRequest = try XCTUnwrap(model.markedExplanationRequest(classIndex: now.classIndex))
        XCTAssertEqual(markRequest.time, 0)
        let then = try XCTUnwrap(ExplanationWorker(session: marked, images: fixture.dataset.test).computeNow(markRequest))
        XCTAssertEqual(then.weightsVersion, 0)
        XCTAssertEqual(then.classIndex, now.classIndex, "both times explain the same class")
        let change = now.change(since: then)
        XCTAssertEqual(change.entries.count, now.entries.count)
        for (index, entry) in change.entries.enumerated() {
            if let after = now.entries[index].scaledMap, let before = then.entries[index].scaledMap {
                XCTAssertEqual(entry.mapChange?.values, zip(after.values, before.values).map { $0 - $1 }, entry.title)
            }
            if let after = now.entries[index].scores, let before = then.entries[index].scores {
                XCTAssertEqual(entry.scores?.deletion, after.deletion - before.deletion, entry.title)
            }
        }

        // The sanity curve at both times, the marked one for the class the board explains now.
        let nowCurve = try XCTUnwrap(SanityWorker(session: shown, images: fixture.dataset.test).computeNow(model.sanityRequest))
        let markSanityRequest = try XCTUnwrap(model.markedSanityRequest(classIndex: now.classIndex))
        XCTAssertEqual(markSanityRequest.time, 0)
        XCTAssertEqual(markSanityRequest.classIndex, now.classIndex)
        let thenCurve = try XCTUnwrap(SanityWorker(session: marked, images: fixture.dataset.test).computeNow(markSanityRequest))
        XCTAssertEqual(thenCurve.weightsVersion, 0)
        let curveChange = nowCurve.change(since: thenCurve)
        XCTAssertEqual(curveChange.points.map(\.layer), nowCurve.layers)

        for (width, height) in [(80, 24), (160, 48)] {
            let grid = AppScreen.render(
                model: &model, snapshot: fixture.session.snapshot, insight: nil, explanations: change, sanity: curveChange, width: width,
                height: height)
            let text = grid.lines.joined(separator: "\n")
            XCTAssertTrue(text.contains("Δ since step 0"), text)
            XCTAssertTrue(text.contains("Δ scores since 0"), text)
            let header = try XCTUnwrap(grid.lines.first { $0.contains("Δ scores since 0") }, text)
            XCTAssertTrue(header.contains("Δρ") && header.contains("ΔSSIM"), header)
            for point in curveChange.points {
                let numbers = String(format: "%+.2f %+5.2f", point.spearman, point.ssim)
                XCTAssertTrue(grid.lines.contains { $0.contains(" \(point.layer) ") && $0.contains(numbers) }, "\(numbers): \(text)")
            }
            XCTAssertTrue(text.contains("true: "), "the board is shown: \(text)")
            let row = try XCTUnwrap(grid.lines.first { $0.contains("│ Grad-CAM ") }, text)
            XCTAssertNotNil(row.range(of: #"[+-]\d\.\d{3}"#, options: .regularExpression), "signed changes: \(row)")
            XCTAssertLessThanOrEqual(grid.lines.map(\.count).max() ?? 0, width)
        }
        // e exports the change as shown, named by both times.
        let folder = NSTemporaryDirectory() + "scrubber-export-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = try Exporter(directory: folder).exportBoard(change, group: model.explainGroup.rawValue, classNames: model.classNames)
        XCTAssertTrue(path.hasSuffix("-step6-since0.png"), path)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
        // With the sanity curve's change, drawn on the scale of changes: -2 (bottom) to 2 (top).
        let withCurve = try Exporter(directory: folder).exportBoard(
            change, sanity: model.sanityRequest, curve: curveChange, group: model.explainGroup.rawValue, classNames: model.classNames)
        XCTAssertTrue(FileManager.default.fileExists(atPath: withCurve))
        let chart = SanityChart(layers: curveChange.layers, width: 400, span: SanityCurve.changeSpan)
        XCTAssertEqual(chart.y(for: 2), chart.plotTop)
        XCTAssertEqual(chart.y(for: -2), chart.plotBottom)
        XCTAssertEqual(chart.y(for: 1), SanityChart(layers: curveChange.layers, width: 400).y(for: 0.5), "a change of 1 sits where a score of 0.5 does")
        // The board of one time is never drawn as a change, nor the change once the mark is cleared; nor the curve.
        let plain = AppScreen.render(model: &model, snapshot: fixture.session.snapshot, insight: nil, explanations: now, width: 80, height: 24)
        XCTAssertFalse(plain.lines.contains { $0.contains("true: ") })
        let oneTimeCurve = AppScreen.render(
            model: &model, snapshot: fixture.session.snapshot, insight: nil, explanations: change, sanity: nowCurve, width: 80, height: 24)
        XCTAssertFalse(oneTimeCurve.lines.contains { $0.contains(" \(nowCurve.layers[0]) ") && $0.contains(String(format: "%.2f", nowCurve.points[0].spearman)) })
        press("t", &model)
        let cleared = AppScreen.render(model: &model, snapshot: fixture.session.snapshot, insight: nil, explanations: change, width: 80, height: 24)
        XCTAssertFalse(cleared.lines.contains { $0.contains("true: ") })
    }

    func testTheCompressionLabShowsEachModelAtTheMarkNowAndTheChangeAt80x24AndLarger() throws {
        var model = fixture.makeModel()
        press("6[[t\\", &model)
        XCTAssertEqual(model.time.mark, 0)
        let shown = TimeCursorSource(live: fixture.session), marked = TimeCursorSource(live: fixture.session)
        marked.show(model.time.marked)
        let images = (fixture.dataset.train, fixture.dataset.test)
        let lab = CompressionLab(session: shown, trainImages: images.0, testImages: images.1)
        let markLab = CompressionLab(session: marked, trainImages: images.0, testImages: images.1)
        defer {
            lab.finish()
            markLab.finish()
        }
        let pruning = CompressionMethod.magnitudePruning(amount: 0.3)
        XCTAssertTrue(lab.request(pruning, weightsVersion: 6))
        fixture.waitFor(timeout: 60) { lab.results.rows.count == 2 && lab.results.rows.allSatisfy { !$0.isPending } }
        // What the app asks the marked lab for: the models the table has, at the marked time.
        XCTAssertEqual(lab.results.change(since: markLab.results, markedStep: 0).missing, [pruning])
        XCTAssertTrue(markLab.request(pruning, weightsVersion: 0))
        fixture.waitFor(timeout: 60) { markLab.results.rows.count == 2 && markLab.results.rows.allSatisfy { !$0.isPending } }
        let change = lab.results.change(since: markLab.results, markedStep: 0)
        XCTAssertEqual(change.pairs.map(\.label), ["float32", "pruned 30%"])
        XCTAssertEqual(change.pairs.map(\.then?.weightsVersion), [0, 0])
        XCTAssertEqual(change.pairs.map(\.now.weightsVersion), [6, 6])
        guard case .measured(let before)? = change.pairs[0].then?.status, case .measured(let after) = change.pairs[0].now.status else {
            return XCTFail("both float32 rows are measured: \(change.pairs)")
        }
        let delta = try XCTUnwrap(change.pairs[0].change)
        XCTAssertEqual(delta.accuracy, after.accuracy - before.accuracy)
        XCTAssertEqual(delta.parameters, 0, "the same model, trained further")

        for (width, height) in [(80, 24), (200, 60)] {
            let grid = AppScreen.render(
                model: &model, snapshot: fixture.session.snapshot, insight: nil, compression: lab.results, compressionChange: change,
                width: width, height: height)
            let lines = grid.lines, text = lines.joined(separator: "\n")
            XCTAssertTrue(text.contains("Δ since step 0: each model then, now, and the change"), text)
            let header = try XCTUnwrap(lines.firstIndex { $0.contains("model") && $0.contains("test acc") }, text)
            let (thenRow, nowRow, deltaRow) = (lines[header + 1], lines[header + 2], lines[header + 3])
            XCTAssertNotNil(thenRow.range(of: #"float32 +0 "#, options: .regularExpression), thenRow)
            XCTAssertNotNil(nowRow.range(of: #"float32 +6 "#, options: .regularExpression), nowRow)
            XCTAssertTrue(thenRow.contains(String(format: "%.2f%%", before.accuracy * 100)), thenRow)
            XCTAssertTrue(nowRow.contains(String(format: "%.2f%%", after.accuracy * 100)), nowRow)
            XCTAssertTrue(deltaRow.contains("Δ") && deltaRow.contains(String(format: "%+.1f pp", delta.accuracy * 100)), deltaRow)
            XCTAssertTrue(lines[header + 4].contains("pruned 30%"), lines[header + 4])
            XCTAssertLessThanOrEqual(lines.map(\.count).max() ?? 0, width)
        }
        // The sparsity bars: the pruned copy's share of zeros now, with its change since the mark.
        let (pair, tensors) = change.shownSparsity
        XCTAssertEqual(pair?.label, "pruned 30%")
        XCTAssertFalse(tensors.isEmpty)
        let text = AppScreen.render(
            model: &model, snapshot: fixture.session.snapshot, insight: nil, compression: lab.results, compressionChange: change, width: 200,
            height: 60
        ).lines.joined(separator: "\n")
        XCTAssertTrue(text.contains("zero weights per layer now, Δ since step 0: pruned 30%, step 6"), text)
        for tensor in tensors {
            let name = String(tensor.parameter.dropLast(".weight".count))
            let points = (tensor.change * 1000).rounded() / 10
            XCTAssertNotNil(
                text.range(
                    of: "\(name) +[0-9,]+ [█▉▊▋▌▍▎▏ ]+" + NSRegularExpression.escapedPattern(for: String(format: "%+.1fpp", points == 0 ? 0 : points)),
                    options: .regularExpression),
                "\(tensor.parameter): \(text)")
        }
        // Without a mark the table is the plain one.
        press("t", &model)
        let plain = AppScreen.render(
            model: &model, snapshot: fixture.session.snapshot, insight: nil, compression: lab.results, compressionChange: change, width: 80, height: 24)
        XCTAssertFalse(plain.lines.contains { $0.contains("Δ") })
    }

    func testConfusionAtAPastTimeAndPerClassAccuracyDeltaInDiffMode() throws {
        // The second epoch's end, where the run finishes: snapshots 0, 4, 8, each epoch evaluated.
        fixture.session.step(2)
        fixture.waitFor { self.fixture.session.snapshot.state == .finished }
        var model = fixture.makeModel()
        press("5", &model)
        let snapshots = model.time.history.snapshots
        XCTAssertEqual(snapshots.map(\.step), [0, 4, 8])
        press("[", &model)  // live is step 8: back goes to 4
        XCTAssertEqual(model.time.cursor, 4)
        XCTAssertEqual(model.shownEvaluation, snapshots[1].evaluation, "the matrix of that time, as stored")
        let grid = AppScreen.render(model: &model, snapshot: fixture.session.snapshot, insight: nil, width: 80, height: 24)
        let accuracy = String(format: "test accuracy %.2f%%", snapshots[1].evaluation!.accuracy * 100)
        XCTAssertNotNil(grid.lines.first { $0.contains("epoch 1: " + accuracy) }, grid.lines.joined(separator: "\n"))

        press("t]", &model)  // mark step 4, show step 8
        XCTAssertEqual(model.time.mark, 4)
        XCTAssertEqual(model.time.cursor, 8)
        let diff = AppScreen.render(model: &model, snapshot: fixture.session.snapshot, insight: nil, width: 80, height: 24)
        let text = diff.lines.joined(separator: "\n")
        XCTAssertTrue(text.contains("since step 4)"), text)
        XCTAssertTrue(text.contains("Δacc"), text)
        let before = snapshots[1].evaluation!.perClassAccuracy, after = snapshots[2].evaluation!.perClassAccuracy
        let firstClassRow = try XCTUnwrap(diff.lines.firstIndex { $0.contains("true\\") }) + 1
        XCTAssertTrue(diff.line(firstClassRow).contains(String(format: "%+3.0f%%", (after[0] - before[0]) * 100)), diff.line(firstClassRow))
        press("t", &model)
        XCTAssertNil(model.time.mark)
        XCTAssertEqual(model.status?.text.hasPrefix("mark at epoch 1 step 4 cleared"), true)
    }

    func testAnEarlySnapshotWithoutEvaluationSaysItIsBeingEvaluated() throws {
        var model = fixture.makeModel()
        press("5[[", &model)
        XCTAssertEqual(model.time.cursor, 0)
        XCTAssertNil(model.shownEvaluation)
        let grid = AppScreen.render(model: &model, snapshot: fixture.session.snapshot, insight: nil, width: 80, height: 24)
        XCTAssertNotNil(grid.lines.first { $0.contains("Evaluating the weights of epoch 0 step 0") })
        model.time.evaluations[0] = try XCTUnwrap(fixture.session.snapshot.lastEvaluation)
        XCTAssertNotNil(model.shownEvaluation)
    }

    func testACursorOnAThinnedSnapshotMovesToTheNearestKept() throws {
        var model = fixture.makeModel()
        press("[[", &model)
        XCTAssertEqual(model.time.cursor, 0)
        var history = model.time.history
        history.cadence.budgetBytes = history.snapshots[1].byteCount  // room for one: the newest stays
        var snapshot = fixture.session.snapshot
        snapshot.weightHistory = history
        _ = model.observe(snapshot)
        XCTAssertEqual(model.time.cursor, 4)
    }
}

/// The conv1 filters a snapshot holds, read through a fresh network (PyTorch order, as `FilterBank` has them).
enum AppFixtureCheckpoint {
    static func filters(of snapshot: WeightSnapshot, like fixture: AppFixture) -> [Float]? {
        let network = fixture.session.copyNetwork().network
        snapshot.restore(into: network)
        return (network.layers.first as? Conv2d).map { FilterBank($0).weights }
    }
}
