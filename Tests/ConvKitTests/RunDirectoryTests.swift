import Foundation
import TestSupport
import XCTest

import ConvKit

/// The run directory as a watcher sees it while another process writes it: what ConvScope's writer
/// leaves reads back whole, lines are taken only when complete, and nothing another process leaves
/// (half lines, garbage, truncated or foreign checkpoints, a replaced file) stops the reader; each is
/// skipped with a reason, once.
final class RunDirectoryTests: XCTestCase {
    /// A trainer of a tiny network on 64 synthetic images: 2 steps an epoch.
    private func makeTrainer(epochs: Int = 2) throws -> Trainer {
        let dataset = SyntheticDataset.generate(seed: 5, trainCount: 64, testCount: 20)
        return try Trainer(config: TrainingConfig(model: "conv4,bn,relu,maxpool,gap,fc10", epochs: epochs, batchSize: 32, seed: 1), dataset: dataset)
    }

    private func append(_ text: String, to path: String) throws {
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    func testWhatTheWriterWritesReadsBackWhole() throws {
        let root = try makeTemporaryDirectory(self)
        let path = root + "/run"
        let trainer = try makeTrainer()
        let writer = try RunDirectoryWriter(path: path, manifest: RunManifest(trainer: trainer), resume: false)
        var lastEpochStep = 0
        while !trainer.isFinished {
            switch trainer.step() {
            case .step(let step):
                try writer.append(MetricsRecord(step: step, epoch: trainer.completedEpochs + 1, imagesPerSecond: 100, time: 1))
            case let .epochFinished(step, epoch, _):
                try writer.append(MetricsRecord(step: step, epoch: epoch.epoch, imagesPerSecond: 100, time: 1))
                try writer.append(MetricsRecord(epoch: epoch, step: trainer.globalStep))
                try writer.saveCheckpoint(trainer)
                lastEpochStep = trainer.globalStep
            case .diverged(let divergence):
                return XCTFail("the run diverged: \(divergence)")
            }
        }

        var reader = try RunDirectory(path: path)
        let update = reader.poll()
        XCTAssertEqual(update.issues, [])
        XCTAssertEqual(reader.manifest?.spec, trainer.network.spec.text)
        XCTAssertEqual(reader.manifest?.classes, SyntheticDataset.classNames)
        XCTAssertEqual(reader.manifest?.stepsPerEpoch, 2)
        XCTAssertEqual(reader.history.history.steps, trainer.history.steps, "every step's loss, accuracy and rate")
        XCTAssertEqual(reader.history.history.epochs.map(\.testAccuracy), trainer.history.epochs.map(\.testAccuracy))
        XCTAssertEqual(reader.history.history.epochs.map(\.epoch), [1, 2])
        XCTAssertEqual(reader.checkpoints.map(\.step), [2, 4])
        XCTAssertEqual(reader.checkpoints.map(\.name), ["step-000000002.safetensors", "step-000000004.safetensors"])
        XCTAssertEqual(reader.latestCheckpoint?.epoch, 2)
        XCTAssertEqual(reader.latestCheckpoint?.step, lastEpochStep)

        // The latest checkpoint is the trained network: same logits on a test image.
        let loaded = try XCTUnwrap(reader.latestCheckpoint).load()
        let x = BatchAssembler().tensor(trainer.dataset.test, index: 3, into: FloatBuffer())
        XCTAssertEqual(loaded.network.infer(x).array, trainer.network.infer(x).array)
        XCTAssertTrue(reader.poll().isEmpty, "nothing new: nothing reported")

        // A second run into the same directory is refused; resuming it is not.
        XCTAssertThrowsError(try RunDirectoryWriter(path: path, manifest: RunManifest(trainer: trainer), resume: false)) { error in
            XCTAssertTrue("\(error)".contains("already holds a run"), "\(error)")
        }
        XCTAssertNoThrow(try RunDirectoryWriter(path: path, manifest: RunManifest(trainer: trainer), resume: true))
        XCTAssertThrowsError(try RunDirectoryWriter(path: root + "/empty", manifest: RunManifest(), resume: true))
    }

    func testLinesAreTakenOnlyWhenCompleteAndOnlyOnce() throws {
        let path = try makeTemporaryDirectory(self)
        let metrics = path + "/metrics.jsonl"
        var reader = try RunDirectory(path: path)
        XCTAssertTrue(reader.poll().isEmpty, "an empty directory is a run not started yet")

        try append("{\"step\":1,\"loss\":2.5,\"accuracy\":0.1}\n{\"step\":2,\"lo", to: metrics)
        var update = reader.poll()
        XCTAssertEqual(update.records.map(\.step), [1])
        XCTAssertEqual(update.records.first?.kind, .train, "kind defaults to train")
        XCTAssertEqual(update.issues, [])

        try append("ss\":2.25}\n", to: metrics)
        update = reader.poll()
        XCTAssertEqual(update.records.map(\.step), [2])
        XCTAssertEqual(update.records.first?.loss, 2.25)
        XCTAssertEqual(reader.history.history.steps.map(\.step), [1, 2])
        XCTAssertTrue(reader.poll().isEmpty)
    }

    func testNonFiniteNumbersAreWrittenAsNullAndReadAsNaN() throws {
        let record = MetricsRecord(
            kind: .train, step: 7, epoch: 1, loss: .nan, accuracy: 0.5, learningRate: .infinity, time: 1.25,
            extras: ["grad_norm": -.infinity, "world_size": 2])
        let line = record.jsonLine
        XCTAssertEqual(
            line, "{\"kind\":\"train\",\"step\":7,\"epoch\":1,\"loss\":null,\"accuracy\":0.5,\"lr\":null,\"time\":1.25,\"grad_norm\":null,\"world_size\":2}")
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(line.utf8)), "any JSON reader takes it")
        let back = try MetricsRecord(jsonLine: line)
        XCTAssertEqual(back.step, 7)
        XCTAssertTrue(try XCTUnwrap(back.loss).isNaN)
        XCTAssertTrue(try XCTUnwrap(back.learningRate).isNaN)
        XCTAssertNil(back.testLoss, "absent stays absent")
        XCTAssertEqual(back.extras["world_size"], 2)
        XCTAssertTrue(try XCTUnwrap(back.extras["grad_norm"]).isNaN)
        XCTAssertEqual(MetricsRecord.value(Float(0.1)), 0.1, "a Float keeps its own digits")
    }

    func testLinesThatAreNotRecordsAreSkippedWithTheirLineNumber() throws {
        let path = try makeTemporaryDirectory(self)
        let metrics = path + "/metrics.jsonl"
        try append(
            """
            {"step":1,"loss":1}
            not json at all
            [1,2,3]
            {"loss":1}
            {"step":-3}
            {"step":2.5}
            {"step":4,"loss":"low"}

            {"step":5,"kind":"eval","epoch":1,"test_accuracy":0.5,"custom":"text"}
            {"step":6,"kind":"grad_stats","norm":3}

            """, to: metrics)
        var reader = try RunDirectory(path: path)
        let update = reader.poll()
        XCTAssertEqual(update.records.map(\.step), [1, 5, 6])
        XCTAssertEqual(update.issues.map(\.line), [2, 3, 4, 5, 6, 7])
        XCTAssertEqual(Set(update.issues.map(\.file)), ["metrics.jsonl"])
        XCTAssertTrue(recordReason(update.issues[0]).hasPrefix("not JSON"), "\(update.issues[0])")
        XCTAssertEqual(recordReason(update.issues[2]), "no 'step'")
        XCTAssertTrue(recordReason(update.issues[5]).contains("'loss' is a string"), "\(update.issues[5])")
        XCTAssertEqual(reader.history.history.epochs.map(\.testAccuracy), [0.5])
        XCTAssertEqual(reader.history.others.map(\.kind), [.other("grad_stats")], "unknown kinds are kept aside")
        XCTAssertTrue(reader.poll().isEmpty, "each bad line is reported once")
    }

    func testALineLongerThanTheLimitIsSkippedWithoutHoldingIt() throws {
        let path = try makeTemporaryDirectory(self)
        let metrics = path + "/metrics.jsonl"
        let long = String(repeating: "x", count: MetricsTail.maximumLineLength + 10)
        try append("{\"step\":1}\n" + long, to: metrics)
        var reader = try RunDirectory(path: path)
        var update = reader.poll()
        XCTAssertEqual(update.records.map(\.step), [1])
        XCTAssertEqual(update.issues.map(\.line), [2])
        try append("more of it\n{\"step\":2}\n", to: metrics)
        update = reader.poll()
        XCTAssertEqual(update.records.map(\.step), [2], "reading goes on after the long line's newline")
        XCTAssertEqual(update.issues, [])
    }

    func testAReplacedOrTruncatedMetricsFileIsReadAgainFromTheStart() throws {
        let path = try makeTemporaryDirectory(self)
        let metrics = path + "/metrics.jsonl"
        try append("{\"step\":1}\n{\"step\":2}\n{\"step\":3}\n", to: metrics)
        var reader = try RunDirectory(path: path)
        XCTAssertEqual(reader.poll().records.count, 3)

        // Cut short in place (the same file): it is now shorter than what was read.
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: metrics))
        try handle.truncate(atOffset: 0)
        try handle.close()
        try append("{\"step\":1,\"loss\":9}\n", to: metrics)
        var update = reader.poll()
        XCTAssertTrue(update.metricsRestarted)
        XCTAssertEqual(update.issues.count, 1)
        XCTAssertEqual(update.issues[0].problem, .shrank(size: 20, read: 33))
        XCTAssertEqual(reader.history.history.steps.map(\.loss), [9])

        // Replaced by another file (renamed over it), even a longer one.
        try Data("{\"step\":1,\"loss\":7}\n{\"step\":2,\"loss\":6}\n".utf8).write(to: URL(fileURLWithPath: metrics), options: .atomic)
        update = reader.poll()
        XCTAssertTrue(update.metricsRestarted)
        XCTAssertEqual(update.issues.first?.problem, .replaced)
        XCTAssertEqual(reader.history.history.steps.map(\.loss), [7, 6])
    }

    func testAStepThatGoesBackReplacesWhatFollowedIt() throws {
        var history = RunHistory()
        for step in 1...4 { history.append(MetricsRecord(kind: .train, step: step, loss: Double(step))) }
        history.append(MetricsRecord(kind: .eval, step: 4, epoch: 1, testAccuracy: 0.5))
        for step in 5...6 { history.append(MetricsRecord(kind: .train, step: step, loss: Double(step))) }
        history.append(MetricsRecord(kind: .eval, step: 6, epoch: 2, testAccuracy: 0.6))
        for step in 7...8 { history.append(MetricsRecord(kind: .train, step: step, loss: Double(step))) }
        // The writer died after step 8 and resumed from the checkpoint of step 4.
        history.append(MetricsRecord(kind: .train, step: 5, loss: 50))
        XCTAssertEqual(history.history.steps.map(\.step), [1, 2, 3, 4, 5])
        XCTAssertEqual(history.history.steps.last?.loss, 50)
        XCTAssertEqual(history.history.epochs.map(\.epoch), [1], "the epoch closed at step 6 is gone with it")
        XCTAssertEqual(history.epochSteps, [4])
    }

    func testBrokenAndForeignCheckpointsAreSkippedOnceWithAReason() throws {
        let path = try makeTemporaryDirectory(self)
        let trainer = try makeTrainer(epochs: 1)
        while !trainer.isFinished { trainer.step() }
        let writer = try RunDirectoryWriter(path: path, manifest: RunManifest(trainer: trainer), resume: false)
        let good = try writer.saveCheckpoint(trainer)
        let folder = path + "/checkpoints/"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        try bytes.prefix(bytes.count - 100).write(to: URL(fileURLWithPath: folder + "step-000000009.safetensors"))
        try SafeTensors(tensors: [SafeTensors.Entry(name: "w", shape: [2], floats: [1, 2])], metadata: ["note": "mine"])
            .write(to: folder + "foreign.safetensors")
        try Data("hello".utf8).write(to: URL(fileURLWithPath: folder + "garbage.safetensors"))
        try Data("notes".utf8).write(to: URL(fileURLWithPath: folder + "notes.txt"))
        try bytes.prefix(50).write(to: URL(fileURLWithPath: folder + ".step-000000010.safetensors.tmp-abc123"))

        var reader = try RunDirectory(path: path)
        let update = reader.poll()
        XCTAssertEqual(reader.checkpoints.map(\.step), [2], "only the whole ConvScope checkpoint")
        let reasons = Dictionary(uniqueKeysWithValues: update.issues.map { ($0.file, $0.problem) })
        XCTAssertEqual(
            Set(reasons.keys),
            ["checkpoints/step-000000009.safetensors", "checkpoints/foreign.safetensors", "checkpoints/garbage.safetensors", "checkpoints/notes.txt"],
            "the temporary file of a write in progress is not looked at")
        guard case .truncatedData(let needed, let available) = reasons["checkpoints/step-000000009.safetensors"] else {
            return XCTFail("the cut checkpoint: \(reasons)")
        }
        XCTAssertEqual(needed - available, 100, "the 100 bytes cut off its end")
        XCTAssertEqual(reasons["checkpoints/foreign.safetensors"], .noModelSpec(key: RunCheckpoint.specKey))
        XCTAssertEqual(reasons["checkpoints/garbage.safetensors"], .shorterThanAHeader(size: 5))
        XCTAssertEqual(reasons["checkpoints/notes.txt"], .notACheckpointName(expectedExtension: ".safetensors"))
        XCTAssertTrue(reader.poll().isEmpty, "reported once")

        // The truncated file completes (as a foreign writer's non-atomic write would): now it counts.
        try bytes.write(to: URL(fileURLWithPath: folder + "step-000000009.safetensors"))
        let later = reader.poll()
        XCTAssertEqual(later.newCheckpoints.map(\.name), ["step-000000009.safetensors"])
        XCTAssertEqual(reader.checkpoints.count, 2)
        try FileManager.default.removeItem(atPath: good)
        XCTAssertEqual(reader.poll().removedCheckpoints, ["step-000000002.safetensors"])
    }

    func testTheManifestIsCheckedAndANewerVersionIsReadWithAWarning() throws {
        let path = try makeTemporaryDirectory(self)
        try Data("{\"format\":\"tensorboard\",\"version\":1}".utf8).write(to: URL(fileURLWithPath: path + "/run.json"))
        var reader = try RunDirectory(path: path)
        var update = reader.poll()
        XCTAssertNil(reader.manifest)
        XCTAssertEqual(update.issues.map(\.file), ["run.json"])
        guard case .manifest(let error)? = update.issues.first?.problem else { return XCTFail("\(update.issues)") }
        XCTAssertEqual(error.problem, "has format 'tensorboard', not 'convscope-run'")

        try Data("{\"format\":\"convscope-run\",\"version\":2,\"spec\":\"tiny\",\"future\":[1]}".utf8)
            .write(to: URL(fileURLWithPath: path + "/run.json"))
        update = reader.poll()
        XCTAssertEqual(reader.manifest?.spec, "tiny")
        XCTAssertTrue(update.manifestChanged)
        XCTAssertEqual(update.issues.first?.problem, .newerManifest(version: 2, readerVersion: RunLayout.version))

        XCTAssertThrowsError(try RunDirectory(path: path + "/missing"))
        XCTAssertThrowsError(try RunDirectory(path: path + "/run.json"))
    }

    /// The parser's reason for a skipped metrics line.
    private func recordReason(_ issue: RunDirectoryIssue) -> String {
        guard case .notARecord(let error) = issue.problem else { return "not a record issue: \(issue)" }
        return error.reason
    }
}
