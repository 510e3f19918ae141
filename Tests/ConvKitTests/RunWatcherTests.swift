import Foundation
import TestSupport
import XCTest

import ConvKit

/// `RunWatcher`, the source of `convscope watch`: its snapshots follow the metrics as they grow, each
/// new complete checkpoint becomes the weights the views copy (and is evaluated), and whatever else a
/// writer leaves (truncated or foreign checkpoints, another model, garbage lines) is skipped with a
/// message while the weights shown stay as they were.
final class RunWatcherTests: XCTestCase {
    private static let spec = "conv4,bn,relu,maxpool,gap,fc10"
    private let dataset = SyntheticDataset.generate(seed: 5, trainCount: 32, testCount: 40)
    private var run = ""

    override func setUpWithError() throws {
        run = try makeTemporaryDirectory(self) + "/run"
        try FileManager.default.createDirectory(atPath: run + "/checkpoints", withIntermediateDirectories: true)
        let manifest = RunManifest(
            writer: "test writer", spec: Self.spec, dataset: "SYNTHETIC", classes: SyntheticDataset.classNames, epochs: 3,
            stepsPerEpoch: 4, batch: 8)
        try manifest.data().write(to: URL(fileURLWithPath: run + "/run.json"))
    }

    private func network(seed: UInt64, spec: String = RunWatcherTests.spec) throws -> Network {
        Network(plan: try ModelPlan(spec: try ModelSpec(spec)), seed: seed)
    }

    private func append(_ lines: [String]) throws {
        let path = run + "/metrics.jsonl"
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(lines.joined().utf8))
        try handle.close()
    }

    private func trainLine(_ step: Int, loss: Double) -> String {
        "{\"kind\":\"train\",\"step\":\(step),\"epoch\":\(step / 4 + 1),\"loss\":\(loss),\"accuracy\":0.25,\"lr\":0.05,\"images_per_s\":400}\n"
    }

    /// Saves `network` as the checkpoint of `step` (named `name`, by default as writers name it); with `version`,
    /// the file gets that modification time (seconds), so a rewrite of the same size is told apart however fast it
    /// follows the last.
    @discardableResult
    private func saveCheckpoint(_ network: Network, step: Int, name: String? = nil, version: Int? = nil) throws -> String {
        let path = run + "/checkpoints/" + (name ?? RunLayout.checkpointName(step: step))
        try RunCheckpoint.save(
            network: network,
            metadata: [RunCheckpoint.stepKey: String(step), RunCheckpoint.epochKey: String(step / 4), RunCheckpoint.datasetKey: "SYNTHETIC"],
            to: path)
        if let version {
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSince1970: 1_000_000 + Double(version))], ofItemAtPath: path)
        }
        return path
    }

    private func makeWatcher() throws -> RunWatcher {
        var directory = try RunDirectory(path: run)
        let issues = directory.poll().issues
        XCTAssertEqual(issues, [])
        XCTAssertEqual(RunWatcher.spec(of: directory), Self.spec)
        return RunWatcher(directory: directory, issues: issues, dataset: dataset, network: try network(seed: 99), startPolling: false)
    }

    /// What the snapshot's `.skipped` event skipped (empty when its event is another).
    private func skipped(_ snapshot: TrainingSnapshot) -> [RunDirectoryIssue] {
        guard case .skipped(let problems) = snapshot.event else { return [] }
        return problems.compactMap { problem -> RunDirectoryIssue? in
            guard case .skipped(let issue) = problem else { return nil }
            return issue
        }
    }

    /// The model a skipped checkpoint `file` holds instead of the one shown, if that is why it was skipped.
    private func otherModel(in issues: [RunDirectoryIssue], file: String) -> String? {
        for issue in issues where issue.file == file {
            if case .otherModel(let found, _) = issue.problem { return found }
        }
        return nil
    }

    private func weights(_ network: Network) -> [Float] {
        network.parameters.flatMap { Array($0.values) }
    }

    func testCurvesFollowTheMetricsAndEachNewCheckpointBecomesTheWeightsShown() throws {
        let watcher = try makeWatcher()
        defer { watcher.stop() }
        var snapshot = watcher.snapshot
        XCTAssertEqual(snapshot.state, .watching)
        XCTAssertNil(snapshot.watch?.checkpointStep, "no checkpoint yet")
        XCTAssertEqual(snapshot.weightsVersion, -1)
        XCTAssertEqual(snapshot.watch?.writer, "test writer")

        try append([trainLine(1, loss: 2.3), trainLine(2, loss: 2.2)])
        watcher.pollNow()
        snapshot = watcher.snapshot
        XCTAssertEqual(snapshot.history.steps.map(\.step), [1, 2])
        XCTAssertEqual(snapshot.globalStep, 2)
        XCTAssertEqual(snapshot.totalSteps, 12)
        XCTAssertEqual(snapshot.imagesPerSecond, 400)
        XCTAssertNil(snapshot.watch?.checkpointStep)

        let first = try network(seed: 1)
        try saveCheckpoint(first, step: 4)
        try append([trainLine(3, loss: 2.1), trainLine(4, loss: 2.0)])
        watcher.pollNow()
        snapshot = watcher.snapshot
        XCTAssertEqual(snapshot.history.steps.count, 4, "the curves grew")
        XCTAssertEqual(snapshot.watch?.checkpointStep, 4)
        XCTAssertEqual(snapshot.watch?.checkpointName, "step-000000004.safetensors")
        XCTAssertEqual(snapshot.weightsVersion, 4)
        XCTAssertEqual(snapshot.event, .checkpointLoaded(file: "checkpoints/step-000000004.safetensors", step: 4))
        let (copy, version) = watcher.copyNetwork()
        XCTAssertEqual(version, 4)
        XCTAssertEqual(weights(copy), weights(first), "the views work on the checkpoint's weights")

        // The checkpoint is evaluated on the test set (the confusion matrix), as the engine evaluates it.
        watcher.waitForEvaluation()
        snapshot = watcher.snapshot
        let evaluation = try XCTUnwrap(snapshot.lastEvaluation)
        XCTAssertEqual(snapshot.watch?.evaluatedStep, 4)
        XCTAssertEqual(evaluation, Evaluator.evaluate(first, on: dataset.test))

        // A newer checkpoint replaces it; the copy a worker already holds is untouched.
        let second = try network(seed: 2)
        try saveCheckpoint(second, step: 8)
        watcher.pollNow()
        XCTAssertEqual(watcher.snapshot.watch?.checkpointStep, 8)
        // Its evaluation starts at once and may already be done (40 tiny images): the old one's is never shown.
        if let shown = watcher.snapshot.lastEvaluation {
            XCTAssertEqual(shown, Evaluator.evaluate(second, on: dataset.test), "the old checkpoint's evaluation is not shown as the new one's")
        }
        let into = try network(seed: 3)
        XCTAssertEqual(watcher.copyWeights(into: into), 8)
        XCTAssertEqual(weights(into), weights(second))
        XCTAssertEqual(weights(copy), weights(first))
        watcher.waitForEvaluation()
        XCTAssertEqual(watcher.snapshot.lastEvaluation, Evaluator.evaluate(second, on: dataset.test))
    }

    func testTruncatedForeignAndGarbageFilesAreSkippedWithAMessageAndTheWeightsStay() throws {
        let watcher = try makeWatcher()
        defer { watcher.stop() }
        let shown = try network(seed: 1)
        try saveCheckpoint(shown, step: 4)
        watcher.pollNow()
        XCTAssertEqual(watcher.snapshot.watch?.checkpointStep, 4)

        // A newer checkpoint cut short (a writer that does not rename, or a copy in progress).
        let whole = try Data(contentsOf: URL(fileURLWithPath: try saveCheckpoint(try network(seed: 2), step: 12)))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: run + "/checkpoints/" + RunLayout.checkpointName(step: 12)))
        watcher.pollNow()
        var snapshot = watcher.snapshot
        XCTAssertEqual(snapshot.watch?.checkpointStep, 4)
        let cut = skipped(snapshot).first { $0.file == "checkpoints/step-000000012.safetensors" }
        guard case .truncatedData? = cut?.problem else { return XCTFail("\(skipped(snapshot))") }

        // Garbage dropped into the folder, and a garbage metrics line.
        try Data("not a checkpoint at all".utf8).write(to: URL(fileURLWithPath: run + "/checkpoints/step-000000013.safetensors"))
        watcher.pollNow()
        snapshot = watcher.snapshot
        XCTAssertTrue(skipped(snapshot).map(\.file).contains("checkpoints/step-000000013.safetensors"), "\(skipped(snapshot))")
        try append(["this is not json\n"])
        watcher.pollNow()
        XCTAssertTrue(skipped(watcher.snapshot).contains { $0.file == "metrics.jsonl" && $0.line == 1 }, "\(skipped(watcher.snapshot))")

        // A complete checkpoint of another model: skipped, named.
        try saveCheckpoint(try network(seed: 3, spec: "conv8,relu,gap,fc10"), step: 16)
        watcher.pollNow()
        snapshot = watcher.snapshot
        XCTAssertEqual(snapshot.watch?.checkpointStep, 4)
        XCTAssertEqual(otherModel(in: skipped(snapshot), file: "checkpoints/step-000000016.safetensors"), "conv8,relu,gap,fc10")
        XCTAssertEqual(watcher.latestProblems.count, 1)
        XCTAssertEqual(weights(watcher.copyNetwork().network), weights(shown))

        // The run goes on: the next good checkpoint loads.
        let next = try network(seed: 4)
        try saveCheckpoint(next, step: 20)
        watcher.pollNow()
        XCTAssertEqual(watcher.snapshot.watch?.checkpointStep, 20)
        XCTAssertEqual(watcher.snapshot.event, .checkpointLoaded(file: "checkpoints/step-000000020.safetensors", step: 20))
        XCTAssertEqual(weights(watcher.copyNetwork().network), weights(next))
    }

    func testANewerCheckpointThatDoesNotLoadFallsBackToTheNewestThatDoes() throws {
        let watcher = try makeWatcher()
        defer { watcher.stop() }
        let good = try network(seed: 1)
        try saveCheckpoint(good, step: 4)
        try saveCheckpoint(try network(seed: 2, spec: "conv8,relu,gap,fc10"), step: 8)
        watcher.pollNow()
        XCTAssertEqual(watcher.snapshot.watch?.checkpointStep, 4)
        XCTAssertEqual(otherModel(in: skipped(watcher.snapshot), file: "checkpoints/step-000000008.safetensors"), "conv8,relu,gap,fc10")
        XCTAssertEqual(weights(watcher.copyNetwork().network), weights(good))
    }

    // MARK: - The time scrubber's history

    /// The weights of the time at `step` in the watcher's history.
    private func weights(atStep step: Int, of watcher: RunWatcher) throws -> [Float] {
        let snapshot = try XCTUnwrap(watcher.snapshot.weightHistory.snapshot(atStep: step), "no time at step \(step)")
        let scratch = try network(seed: 99)
        snapshot.restore(into: scratch)
        return weights(scratch)
    }

    func testACheckpointRewrittenTwiceGivesTheScrubberThreeTimesWithTheirStepsAndWeights() throws {
        let watcher = try makeWatcher()
        defer { watcher.stop() }
        XCTAssertTrue(watcher.snapshot.weightHistory.isEmpty, "no checkpoint, no time")
        let networks = try (1...3).map { try network(seed: UInt64($0)) }
        for (index, network) in networks.enumerated() {
            try saveCheckpoint(network, step: 4 * (index + 1), name: "latest.safetensors", version: index)
            watcher.pollNow()
            XCTAssertEqual(watcher.snapshot.watch?.checkpointStep, 4 * (index + 1))
        }
        let history = watcher.snapshot.weightHistory
        XCTAssertEqual(history.snapshots.map(\.step), [4, 8, 12])
        XCTAssertEqual(history.snapshots.map(\.epoch), [1, 2, 3])
        for (index, network) in networks.enumerated() {
            XCTAssertEqual(try weights(atStep: 4 * (index + 1), of: watcher), weights(network), "the time of step \(4 * (index + 1))")
        }
        XCTAssertEqual(history.cadence.budgetBytes, SnapshotCadence.defaultBudget, "the live app's budget")
        // The watcher's evaluation of the checkpoint shown stays with its time.
        watcher.waitForEvaluation()
        XCTAssertEqual(watcher.snapshot.weightHistory.snapshot(atStep: 12)?.evaluation, Evaluator.evaluate(networks[2], on: dataset.test))
    }

    func testTheRunsEarlierCheckpointsBecomeTimesOnStartAsThinningWouldKeepThem() throws {
        // A model large enough that a time's evaluation (a few hundred bytes) does not tip the budget below.
        let spec = "conv32,bn,relu,maxpool,gap,fc10"
        let networks = try (1...5).map { try network(seed: UInt64($0), spec: spec) }
        for (index, network) in networks.enumerated() { try saveCheckpoint(network, step: 4 * (index + 1)) }
        var directory = try RunDirectory(path: run)
        _ = directory.poll()

        let all = RunWatcher(directory: directory, dataset: dataset, network: try network(seed: 99, spec: spec), startPolling: false)
        defer { all.stop() }
        all.pollNow()
        XCTAssertEqual(all.snapshot.watch?.checkpointStep, 20)
        XCTAssertEqual(all.snapshot.weightHistory.snapshots.map(\.step), [4, 8, 12, 16, 20], "every checkpoint fits 256 MiB")
        XCTAssertEqual(all.snapshot.weightHistory.snapshots.map(\.epoch), [1, 2, 3, 4, 5])

        // Room for three: the first, the newest and the one between, as the live history thins itself.
        let size = WeightSnapshot(capturing: networks[0], step: 0, epoch: 0).byteCount
        let three = RunWatcher(
            directory: directory, dataset: dataset, network: try network(seed: 99, spec: spec), snapshotBudget: 3 * size + size / 2,
            startPolling: false)
        defer { three.stop() }
        three.pollNow()
        three.waitForEvaluation()
        let history = three.snapshot.weightHistory
        XCTAssertEqual(history.snapshots.map(\.step), [4, 12, 20])
        XCTAssertEqual(history.snapshots.map(\.step), WeightHistory.stepsKept(of: [4, 8, 12, 16, 20], count: 3))
        XCTAssertLessThanOrEqual(history.byteCount, 3 * size + size / 2)
        let restored = try network(seed: 98, spec: spec)
        history.snapshots[1].restore(into: restored)
        XCTAssertEqual(weights(restored), weights(networks[2]), "step 12's time holds step 12's checkpoint")

        // No budget, no times.
        let none = RunWatcher(
            directory: directory, dataset: dataset, network: try network(seed: 99, spec: spec), snapshotBudget: 0, startPolling: false)
        defer { none.stop() }
        none.pollNow()
        XCTAssertEqual(none.snapshot.watch?.checkpointStep, 20)
        XCTAssertTrue(none.snapshot.weightHistory.isEmpty)
    }

    func testTheWeightHistoryBesideTheNewestCheckpointIsPreferredAndADamagedOneFallsBackToTheCheckpoints() throws {
        try saveCheckpoint(try network(seed: 1), step: 4)
        let newest = try network(seed: 2)
        let path = try saveCheckpoint(newest, step: 8)
        // The history the writer kept: steps 0, 2 and 6, and 10, ahead of the checkpoint beside it.
        var saved = WeightHistory()
        for (step, seed) in [(0, 10), (2, 12), (6, 16), (10, 20)] {
            saved.add(WeightSnapshot(capturing: try network(seed: UInt64(seed)), step: step, epoch: step / 4))
        }
        try WeightHistoryFile.save(saved, network: newest, besideCheckpoint: path)

        let watcher = try makeWatcher()  // the history file in checkpoints/ is not reported as a checkpoint
        defer { watcher.stop() }
        watcher.pollNow()
        XCTAssertEqual(watcher.snapshot.weightHistory.snapshots.map(\.step), [0, 2, 6, 8], "the file's times up to the checkpoint, then it")
        XCTAssertEqual(try weights(atStep: 6, of: watcher), weights(try network(seed: 16)))
        XCTAssertEqual(try weights(atStep: 8, of: watcher), weights(newest))
        XCTAssertEqual(watcher.latestProblems, [])

        try Data("not a history".utf8).write(to: URL(fileURLWithPath: WeightHistoryFile.path(besideCheckpoint: path)))
        let fallback = try makeWatcher()
        defer { fallback.stop() }
        fallback.pollNow()
        XCTAssertEqual(fallback.snapshot.weightHistory.snapshots.map(\.step), [4, 8])
        XCTAssertEqual(fallback.latestProblems.count, 1, fallback.latestProblems.description)
        guard case .historySetAside(let problem) = fallback.latestProblems.first else {
            return XCTFail("expected the history set aside: \(fallback.latestProblems)")
        }
        XCTAssertTrue(problem.contains("weight history '\(WeightHistoryFile.path(besideCheckpoint: path))'"), problem)
    }

    func testItPollsByItselfOffTheCallersThread() throws {
        var directory = try RunDirectory(path: run)
        _ = directory.poll()
        let watcher = RunWatcher(directory: directory, dataset: dataset, network: try network(seed: 9), pollInterval: 0.05)
        defer { watcher.stop() }
        try append([trainLine(1, loss: 2.3)])
        try saveCheckpoint(try network(seed: 1), step: 4)
        let deadline = Date().addingTimeInterval(20)
        while watcher.snapshot.watch?.checkpointStep != 4 || watcher.snapshot.history.steps.isEmpty {
            guard Date() < deadline else { return XCTFail("the watcher did not pick up the new line and checkpoint in 20 s") }
            Thread.sleep(forTimeInterval: 0.02)
        }
        watcher.stop()
        // Stopped: nothing more is read.
        try append([trainLine(2, loss: 2.2)])
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertEqual(watcher.snapshot.history.steps.count, 1)
    }
}
