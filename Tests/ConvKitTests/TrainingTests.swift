import Foundation
import TestSupport
import XCTest
import ConvKit

/// Training end to end: learning, determinism, checkpoints and resuming.
final class TrainingTests: XCTestCase {
    private func temporaryPath(_ name: String) -> String {
        (NSTemporaryDirectory() as NSString).appendingPathComponent("convscope-\(getpid())-\(name)")
    }

    func testTinyLearnsTheSyntheticShapesQuickly() throws {
        let dataset = SyntheticDataset.generate(seed: 0)
        let config = TrainingConfig(model: "tiny", epochs: 4, batchSize: 64, augmentation: .none, seed: 0)
        let trainer = try Trainer(config: config, dataset: dataset)
        while !trainer.isFinished { trainer.step() }
        let accuracy = try XCTUnwrap(trainer.history.epochs.last?.testAccuracy)
        // Seeds 0-4 measured 93.7-96.5% on the AVX2 and the portable kernels (AMD EPYC).
        XCTAssertGreaterThan(accuracy, 0.9, "tiny should separate the ten drawn shapes")
        XCTAssertEqual(trainer.history.epochs.count, 4)
        XCTAssertEqual(trainer.globalStep, 4 * (10_000 / 64))
    }

    func testOneEpochOfSimpleOnACIFARSubsetBeatsChance() throws {
        guard let directory = ProcessInfo.processInfo.environment["CONVSCOPE_DATA"] else {
            throw skip(.noCIFAR10, "CONVSCOPE_DATA is not set, so the real CIFAR-10 check did not run")
        }
        let dataset = try Dataset.load(.cifar10(directory: directory), trainLimit: 5_000)
        let trainer = try Trainer(config: TrainingConfig(model: "simple", epochs: 1, seed: 1), dataset: dataset)
        while !trainer.isFinished { trainer.step() }
        let evaluation = try XCTUnwrap(trainer.lastEvaluation)
        // Seeds 1-4 measured 33.3-35.2% (AVX2 kernels, AMD EPYC): 2.5 times chance leaves a margin of
        // about ten of their standard deviations for other kernels' rounding.
        XCTAssertGreaterThan(evaluation.accuracy, 0.25, "one epoch on 5,000 images, tested on all 10,000")
        XCTAssertEqual(evaluation.confusion.joined().reduce(0, +), 10_000)
    }

    func testSameSeedSameRunDifferentSeedDifferentRun() throws {
        let dataset = SyntheticDataset.generate(seed: 3, trainCount: 512, testCount: 100)
        func losses(seed: UInt64) throws -> [Float] {
            let config = TrainingConfig(
                model: "conv8,bn,relu,maxpool,dropout0.3,conv8,relu,gap,fc10", epochs: 1, batchSize: 64,
                augmentation: .strong, seed: seed)
            let trainer = try Trainer(config: config, dataset: dataset)
            while !trainer.isFinished { trainer.step() }
            return trainer.history.steps.map(\.loss)
        }
        XCTAssertEqual(try losses(seed: 7), try losses(seed: 7))
        XCTAssertNotEqual(try losses(seed: 7), try losses(seed: 8))
    }

    /// Quitting the app stops the session, which raises the trainer's interruption: the epoch's test
    /// evaluation then ends after the batch in progress and the epoch stays unrecorded, so the user
    /// does not wait for the whole test set.
    func testInterruptionCutsTheEpochEvaluationShort() throws {
        let dataset = SyntheticDataset.generate(seed: 5, trainCount: 64, testCount: 640)
        let config = TrainingConfig(model: "tiny", epochs: 2, batchSize: 64, augmentation: .none, seed: 0)
        let trainer = try Trainer(config: config, dataset: dataset)
        trainer.interruption.raise()
        guard case .step = trainer.step() else { return XCTFail("an interrupted evaluation must not finish the epoch") }
        XCTAssertEqual(trainer.completedEpochs, 0)
        XCTAssertTrue(trainer.history.epochs.isEmpty)
        XCTAssertNil(trainer.lastEvaluation)

        var batches = 0
        let stop = StopSignal()
        let evaluation = Evaluator(classes: 10, batchSize: 64).evaluate(dataset.test, stoppingWhen: stop) { x in
            batches += 1
            stop.raise()
            return trainer.network.infer(x)
        }
        XCTAssertNil(evaluation)
        XCTAssertEqual(batches, 1, "the batch in progress finishes, no further one starts")

        let quitting = try Trainer(config: config, dataset: dataset)
        let signal = quitting.interruption
        TrainingSession(trainer: quitting, paused: true, checkpointPath: temporaryPath("interrupted.safetensors")).stop()
        XCTAssertTrue(signal.isRaised, "stopping a session interrupts its trainer's evaluation")
    }

    func testCheckpointRoundTripsBitExactly() throws {
        let dataset = SyntheticDataset.generate(seed: 4, trainCount: 256, testCount: 64)
        let config = TrainingConfig(model: "conv6,bn,relu,res8s2,flatten,fc10", epochs: 1, batchSize: 32, seed: 2)
        let trainer = try Trainer(config: config, dataset: dataset)
        while !trainer.isFinished { trainer.step() }
        let path = temporaryPath("roundtrip.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try RunCheckpoint.save(trainer, to: path)
        let loaded = try RunCheckpoint.load(path)
        for (a, b) in zip(trainer.network.stateTensors, loaded.network.stateTensors) {
            XCTAssertEqual(a.name, b.name)
            switch (a.content, b.content) {
            case let (.float(x, layout), .float(y, _)):
                XCTAssertEqual(
                    x.array(layout.count).map(\.bitPattern), y.array(layout.count).map(\.bitPattern), "\(a.name) differs")
            case let (.int64(x), .int64(y)):
                XCTAssertEqual(x.value, y.value, a.name)
            default:
                XCTFail("\(a.name) changed kind")
            }
        }
        XCTAssertEqual(loaded.epoch, 1)
        let saved = try XCTUnwrap(loaded.history.epochs.first), original = try XCTUnwrap(trainer.history.epochs.first)
        XCTAssertEqual(saved.testAccuracy, original.testAccuracy)
        XCTAssertEqual(saved.trainLoss, original.trainLoss)
        XCTAssertEqual(saved.elapsedSeconds, original.elapsedSeconds, accuracy: 1e-9)
        XCTAssertEqual(try loaded.config(), config)
        XCTAssertEqual(loaded.metadata["dataset"], "SYNTHETIC")
        // A second save of the same state gives the same bytes.
        let again = temporaryPath("roundtrip2.safetensors")
        defer { try? FileManager.default.removeItem(atPath: again) }
        try RunCheckpoint.save(trainer, to: again)
        XCTAssertEqual(FileManager.default.contents(atPath: path), FileManager.default.contents(atPath: again))
    }

    func testResumingContinuesExactlyAsTheUninterruptedRun() throws {
        let dataset = SyntheticDataset.generate(seed: 5, trainCount: 384, testCount: 64)
        for optimizer in [Optimizer.Kind.sgd, .adamw] {
            var config = TrainingConfig(
                model: "conv8,bn,relu,maxpool,dropout2d0.2,conv8,relu,gap,fc10", epochs: 3, batchSize: 64,
                augmentation: .standard, seed: 9)
            config.optimizer.update.kind = optimizer
            config.learningRate = optimizer == .sgd ? 0.1 : 0.003
            let straight = try Trainer(config: config, dataset: dataset)
            while !straight.isFinished { straight.step() }

            // Saved in the middle of the second epoch (the TUI's `s` can save at any step).
            let first = try Trainer(config: config, dataset: dataset)
            while first.completedEpochs < 1 || first.stepInEpoch < 3 { first.step() }
            let path = temporaryPath("resume-\(optimizer).safetensors")
            defer { try? FileManager.default.removeItem(atPath: path) }
            try RunCheckpoint.save(first, to: path)
            let resumed = try RunCheckpoint.resume(path, dataset: dataset)
            XCTAssertEqual(resumed.completedEpochs, 1)
            XCTAssertEqual(resumed.stepInEpoch, 3)
            while !resumed.isFinished { resumed.step() }

            for (a, b) in zip(straight.network.parameters, resumed.network.parameters) {
                XCTAssertEqual(a.values.map(\.bitPattern), b.values.map(\.bitPattern), "\(optimizer): \(a.name) diverged after resume")
            }
            XCTAssertEqual(straight.history.epochs.map(\.testAccuracy), resumed.history.epochs.map(\.testAccuracy))
            XCTAssertEqual(straight.history.epochs.map(\.trainLoss), resumed.history.epochs.map(\.trainLoss))
        }
    }

    func testBadCheckpointsAreRefusedWithTheirReason() throws {
        let dataset = SyntheticDataset.generate(seed: 6, trainCount: 64, testCount: 16)
        let trainer = try Trainer(config: TrainingConfig(model: "tiny", epochs: 1, batchSize: 32), dataset: dataset)
        trainer.step()
        let good = temporaryPath("good.safetensors")
        try RunCheckpoint.save(trainer, to: good)
        defer { try? FileManager.default.removeItem(atPath: good) }
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: good))

        func message(_ data: Data) -> String {
            let path = temporaryPath("bad.safetensors")
            defer { try? FileManager.default.removeItem(atPath: path) }
            _ = FileManager.default.createFile(atPath: path, contents: data)
            do {
                _ = try RunCheckpoint.load(path)
                return "loaded"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(message(bytes.prefix(bytes.count - 100)).contains("truncated"), message(bytes.prefix(bytes.count - 100)))
        XCTAssertTrue(message(Data("PK\u{3}\u{4} a zip file".utf8)).contains("not a safetensors file"))

        // A safetensors file from elsewhere: no spec in its metadata.
        var foreign = try SafeTensors(data: bytes, source: "x")
        foreign.metadata = [:]
        XCTAssertTrue(message(foreign.data()).contains("not written by convscope"), message(foreign.data()))

        // A spec that does not match the tensors.
        var mismatched = try SafeTensors(data: bytes, source: "x")
        mismatched.metadata["spec"] = "conv16,relu,maxpool,conv32,relu,maxpool,conv32,relu,gap,fc10"
        let text = message(mismatched.data())
        XCTAssertTrue(text.contains("conv3.weight") && text.contains("expected [32, 32, 3, 3]"), text)

        // Resuming on a different dataset is refused.
        XCTAssertThrowsError(try RunCheckpoint.resume(good, dataset: SyntheticDataset.generate(seed: 6, trainCount: 64, testCount: 16).relabelled)) {
            XCTAssertTrue("\($0)".contains("was trained on SYNTHETIC"), "\($0)")
        }
    }
}

extension Dataset {
    /// The same images presented as CIFAR-10 (to test that a run refuses to continue on other data).
    fileprivate var relabelled: Dataset { Dataset(train: train, test: test, source: .cifar10(directory: "/elsewhere")) }
}
