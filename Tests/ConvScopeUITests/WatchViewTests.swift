import ConvKit
import ConvScopeUI
import Foundation
import XCTest

/// The app over a watched run (`convscope watch`): the header says WATCHING and the step of the
/// checkpoint shown, the explanation names it, and the training keys say they are unavailable instead of
/// doing nothing; q quits at once (nothing here is unsaved).
final class WatchViewTests: XCTestCase {
    private static let spec = "conv4,bn,relu,maxpool,gap,fc10"
    private let dataset = SyntheticDataset.generate(seed: 3, trainCount: 16, testCount: 20)
    private let layout = ScreenLayout(width: 100, height: 30)
    private var folder = ""

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "convscope-watch-view-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder + "/checkpoints", withIntermediateDirectories: true)
        try RunManifest(writer: "test", spec: Self.spec, dataset: "SYNTHETIC", epochs: 2, stepsPerEpoch: 5, batch: 4).data()
            .write(to: URL(fileURLWithPath: folder + "/run.json"))
        let lines = (1...7).map { "{\"step\":\($0),\"epoch\":\($0 / 5 + 1),\"loss\":\(2.3 - Double($0) * 0.05),\"accuracy\":0.2,\"lr\":0.01}\n" }
        try Data(lines.joined().utf8).write(to: URL(fileURLWithPath: folder + "/metrics.jsonl"))
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: folder)
    }

    private func watcher(checkpointStep: Int?) throws -> RunWatcher {
        let network = Network(plan: try ModelPlan(spec: try ModelSpec(Self.spec)))
        if let step = checkpointStep {
            try RunCheckpoint.save(
                network: network, metadata: [RunCheckpoint.stepKey: String(step), RunCheckpoint.epochKey: "1"],
                to: folder + "/checkpoints/" + RunLayout.checkpointName(step: step))
        }
        var directory = try RunDirectory(path: folder)
        _ = directory.poll()
        let watcher = RunWatcher(directory: directory, dataset: dataset, network: network, startPolling: false)
        watcher.pollNow()
        return watcher
    }

    private func rows(_ grid: CellGrid) -> [String] { grid.text(in: grid.bounds) }

    private func model(_ watcher: RunWatcher) -> AppModel {
        var model = AppModel(
            layers: ModelSummary(watcher.copyNetwork().network).rows, classNames: dataset.classNames, testLabels: dataset.test.labels)
        _ = model.observe(watcher.snapshot)
        return model
    }

    func testTrainingKeysAreRefusedWithAMessageAndQQuitsAtOnce() throws {
        let watcher = try watcher(checkpointStep: 5)
        defer { watcher.stop() }
        var model = model(watcher)
        XCTAssertEqual(model.runState, .watching)
        for (key, what) in [(" ", "pause"), ("n", "step"), ("+", "learning rate"), ("-", "learning rate"), ("s", "save")] {
            model.status = nil
            XCTAssertEqual(model.handle(.character(Character(key)), layout: layout), [], "'\(key)' does nothing to a watched run")
            XCTAssertEqual(
                model.status?.text, "\(what) is unavailable while watching: another process trains this run", "'\(key)' says so")
        }
        // The views' keys work as when exploring a checkpoint.
        XCTAssertEqual(model.handle(.character("m"), layout: layout), [])
        XCTAssertEqual(model.method, .gradCAMPlusPlus)
        XCTAssertEqual(model.handle(.character("e"), layout: layout), [.export(.heatmap)])
        XCTAssertEqual(model.handle(.character("q"), layout: layout), [.quit])
    }

    func testTheHeaderSaysWatchingAndTheCheckpointStepAndTheHelpMarksTrainingKeys() throws {
        let watcher = try watcher(checkpointStep: 5)
        defer { watcher.stop() }
        var model = model(watcher)
        let snapshot = watcher.snapshot
        var grid = AppScreen.render(model: &model, snapshot: snapshot, insight: nil, width: 100, height: 30)
        let header = rows(grid)[0], progress = rows(grid)[1]
        XCTAssertTrue(header.contains("WATCHING"), header)
        XCTAssertTrue(header.contains("SYNTHETIC"), header)
        XCTAssertTrue(progress.hasPrefix(" checkpoint step 5 (epoch 1)"), progress)
        XCTAssertTrue(progress.contains("run step 7/10"), progress)

        model.showsHelp = true
        // Tall enough for the help's one column of every key (29 since the time scrubber's, `o` and `R`).
        grid = AppScreen.render(model: &model, snapshot: snapshot, insight: nil, width: 100, height: AppKeys.bindings.count + 4)
        let screen = rows(grid).joined(separator: "\n")
        XCTAssertTrue(screen.contains("unavailable: another process trains this run"), screen)
        XCTAssertFalse(screen.contains("pause / resume training"), screen)
    }

    func testBeforeTheFirstCheckpointTheHeaderSaysSoAndNoWeightsAreShown() throws {
        let watcher = try watcher(checkpointStep: nil)
        defer { watcher.stop() }
        var model = model(watcher)
        let snapshot = watcher.snapshot
        XCTAssertNil(snapshot.watch?.checkpointStep)
        let grid = AppScreen.render(model: &model, snapshot: snapshot, insight: nil, width: 100, height: 30)
        XCTAssertTrue(rows(grid)[1].hasPrefix(" no checkpoint yet"), rows(grid)[1])
        XCTAssertEqual(snapshot.history.steps.count, 7, "the curves are there before any checkpoint")
    }

    func testBracketStepsBackFromTheCheckpointShownToTheOneBeforeIt() throws {
        // An earlier checkpoint (step 2) and the newest (step 5), while the run's metrics are at step 7.
        let earlier = Network(plan: try ModelPlan(spec: try ModelSpec(Self.spec)), seed: 2)
        try RunCheckpoint.save(
            network: earlier, metadata: [RunCheckpoint.stepKey: "2", RunCheckpoint.epochKey: "0"],
            to: folder + "/checkpoints/" + RunLayout.checkpointName(step: 2))
        let watcher = try watcher(checkpointStep: 5)
        defer { watcher.stop() }
        var model = model(watcher)
        XCTAssertEqual(model.time.history.snapshots.map(\.step), [2, 5])
        XCTAssertEqual(model.handle(.character("["), layout: layout), [])
        XCTAssertEqual(model.time.cursor, 2, "the live weights are step 5's, so one back is step 2")
        let grid = AppScreen.render(model: &model, snapshot: watcher.snapshot, insight: nil, width: 100, height: 30)
        XCTAssertTrue(rows(grid)[1].contains("◂ time: epoch 0 step 2 (1/2)"), rows(grid)[1])
        XCTAssertEqual(model.handle(.character("\\"), layout: layout), [])
        XCTAssertTrue(model.time.isLive)
    }

    func testTheConfusionMatrixIsTheCheckpointsAndSaysWhenItIsBeingEvaluated() throws {
        let watcher = try watcher(checkpointStep: 5)
        defer { watcher.stop() }
        var model = model(watcher)
        model.selectedTab = .confusion

        // A checkpoint just loaded, its evaluation still running: no older matrix passes for its own.
        var evaluating = watcher.snapshot
        evaluating.lastEvaluation = nil
        _ = model.observe(evaluating)
        XCTAssertNil(model.evaluation)
        var screen = rows(AppScreen.render(model: &model, snapshot: evaluating, insight: nil, width: 100, height: 30)).joined()
        XCTAssertTrue(screen.contains("Evaluating checkpoint step 5 on the test set"), screen)

        watcher.waitForEvaluation()
        let evaluated = watcher.snapshot
        XCTAssertEqual(evaluated.watch?.evaluatedStep, 5)
        _ = model.observe(evaluated)
        XCTAssertEqual(model.evaluation, evaluated.lastEvaluation)
        screen = rows(AppScreen.render(model: &model, snapshot: evaluated, insight: nil, width: 100, height: 30)).joined()
        XCTAssertTrue(screen.contains("epoch 1: test accuracy"), screen)
    }
}
