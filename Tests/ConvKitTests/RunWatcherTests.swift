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

    @discardableResult
    private func saveCheckpoint(_ network: Network, step: Int) throws -> String {
        let path = run + "/checkpoints/" + RunLayout.checkpointName(step: step)
        try RunCheckpoint.save(
            network: network,
            metadata: [RunCheckpoint.stepKey: String(step), RunCheckpoint.epochKey: String(step / 4), RunCheckpoint.datasetKey: "SYNTHETIC"],
            to: path)
        return path
    }

    private func makeWatcher() throws -> RunWatcher {
        var directory = try RunDirectory(path: run)
        let issues = directory.poll().issues
        XCTAssertEqual(issues, [])
        XCTAssertEqual(RunWatcher.spec(of: directory), Self.spec)
        return RunWatcher(directory: directory, issues: issues, dataset: dataset, network: try network(seed: 99), startPolling: false)
    }

    /// The problems of the snapshot's `.skipped` event, one a line (empty when its event is another).
    private func skipped(_ snapshot: TrainingSnapshot) -> String {
        guard case .skipped(let problems) = snapshot.event else { return "" }
        return problems.joined(separator: "\n")
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
        XCTAssertNil(watcher.snapshot.lastEvaluation, "the old checkpoint's evaluation is not shown as the new one's")
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
        XCTAssertTrue(skipped(snapshot).contains("step-000000012.safetensors is truncated"), skipped(snapshot))

        // Garbage dropped into the folder, and a garbage metrics line.
        try Data("not a checkpoint at all".utf8).write(to: URL(fileURLWithPath: run + "/checkpoints/step-000000013.safetensors"))
        watcher.pollNow()
        snapshot = watcher.snapshot
        XCTAssertTrue(skipped(snapshot).contains("step-000000013.safetensors"), skipped(snapshot))
        try append(["this is not json\n"])
        watcher.pollNow()
        XCTAssertTrue(skipped(watcher.snapshot).contains("metrics.jsonl line 1"), skipped(watcher.snapshot))

        // A complete checkpoint of another model: skipped, named.
        try saveCheckpoint(try network(seed: 3, spec: "conv8,relu,gap,fc10"), step: 16)
        watcher.pollNow()
        snapshot = watcher.snapshot
        XCTAssertEqual(snapshot.watch?.checkpointStep, 4)
        XCTAssertTrue(skipped(snapshot).contains("holds the model conv8,relu,gap,fc10"), skipped(snapshot))
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
        XCTAssertTrue(skipped(watcher.snapshot).contains("step-000000008.safetensors holds the model"), skipped(watcher.snapshot))
        XCTAssertEqual(weights(watcher.copyNetwork().network), weights(good))
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
