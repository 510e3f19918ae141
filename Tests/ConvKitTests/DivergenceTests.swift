import Foundation
import TestSupport
import XCTest
import ConvKit

/// A run whose numbers blow up is caught before the weights are spoiled, and goes back to its last good
/// state; checkpoints with NaN or infinity are neither saved nor loaded; JSON takes non-finite numbers.
final class DivergenceTests: XCTestCase {
    /// A learning rate no network survives: the first update makes the weights about 1e27 times too large,
    /// so the next forward pass overflows on any CPU.
    private static let absurdRate: Float = 1e30

    private func trainer(
        model: String = "tiny", rate: Float = DivergenceTests.absurdRate, trainCount: Int = 512, batch: Int = 64
    ) throws -> Trainer {
        let dataset = SyntheticDataset.generate(seed: 4, trainCount: trainCount, testCount: 64)
        let config = TrainingConfig(
            model: model, epochs: 2, batchSize: batch, learningRate: rate, schedule: .constant, augmentation: .none, seed: 0)
        return try Trainer(config: config, dataset: dataset)
    }

    /// Every float and counter of the network, the optimiser and the look-ahead, as bit patterns.
    private func state(_ trainer: Trainer) -> [String: [UInt32]] {
        var values: [String: [UInt32]] = [:]
        for tensor in trainer.network.stateTensors + trainer.resumableState {
            switch tensor.content {
            case let .float(buffer, layout): values[tensor.name] = buffer.array(layout.count).map(\.bitPattern)
            case let .int64(counter): values[tensor.name] = [UInt32(truncatingIfNeeded: counter.value)]
            }
        }
        return values
    }

    /// Steps until the trainer reports a divergence; returns it with the states before each step taken.
    private func runToDivergence(_ trainer: Trainer, limit: Int = 20) throws -> (Divergence, before: [[String: [UInt32]]]) {
        var before: [[String: [UInt32]]] = []
        for _ in 0..<limit {
            before.append(state(trainer))
            if case .diverged(let divergence) = trainer.step() { return (divergence, before) }
        }
        XCTFail("no divergence within \(limit) steps at learning rate \(trainer.config.learningRate)")
        throw CocoaError(.featureUnsupported)
    }

    func testADivergingStepPutsTheRunBackToWhereItStarted() throws {
        let trainer = try trainer()
        let (divergence, before) = try runToDivergence(trainer)
        XCTAssertTrue([.loss, .gradientNorm].contains(divergence.quantity), "\(divergence)")
        XCTAssertFalse(divergence.value.isFinite)
        XCTAssertEqual(divergence.epoch, 1)
        XCTAssertEqual(divergence.step, before.count)
        XCTAssertEqual(divergence.globalStep, before.count, "the step that failed is named")
        XCTAssertEqual(divergence.learningRate, DivergenceTests.absurdRate)
        XCTAssertGreaterThanOrEqual(before.count, 2, "the first step starts from finite weights and a finite loss")
        // Within the first epoch, the last good state is the trainer's start.
        XCTAssertEqual([divergence.restoredEpoch, divergence.restoredStep, divergence.restoredGlobalStep], [0, 0, 0])
        XCTAssertEqual(trainer.globalStep, 0)
        XCTAssertEqual(trainer.stepInEpoch, 0)
        XCTAssertEqual(state(trainer), before[0], "weights, statistics and optimiser state as they started")
        XCTAssertTrue(trainer.history.steps.isEmpty)
    }

    /// A run that diverges in its second epoch goes back to the end of the first, as recorded.
    func testADivergenceInALaterEpochGoesBackToTheEndOfTheLastRecordedOne() throws {
        let trainer = try trainer(rate: 0.05)
        while trainer.completedEpochs < 1 {
            guard case .diverged = trainer.step() else { continue }
            return XCTFail("the first epoch diverged at a sane rate")
        }
        let afterFirstEpoch = state(trainer), epochs = trainer.history.epochs, steps = trainer.history.steps.count
        trainer.step()
        trainer.step()
        trainer.learningRateScale = 1e31
        let (divergence, _) = try runToDivergence(trainer)
        XCTAssertEqual(divergence.epoch, 2)
        XCTAssertEqual([divergence.restoredEpoch, divergence.restoredStep, divergence.restoredGlobalStep], [1, 0, steps])
        XCTAssertEqual(state(trainer), afterFirstEpoch)
        XCTAssertEqual(trainer.history.epochs, epochs)
        XCTAssertEqual(trainer.history.steps.count, steps)
        XCTAssertEqual(trainer.lastEvaluation?.accuracy, epochs.last?.testAccuracy)
    }

    func testLoweringTheRateRetriesAndTrainingGoesOn() throws {
        let trainer = try trainer()
        let (divergence, _) = try runToDivergence(trainer)
        trainer.learningRateScale = 1e-31  // back to 0.1
        guard case .step(let step) = trainer.step() else { return XCTFail("the retried step diverged again") }
        XCTAssertEqual(step.step, divergence.restoredGlobalStep + 1, "training goes on from the last good state")
        XCTAssertTrue(step.loss.isFinite)
        for _ in 0..<5 {
            guard case .step(let next) = trainer.step() else { return XCTFail("training did not go on") }
            XCTAssertTrue(next.loss.isFinite)
        }
    }

    /// With one step per epoch the only place to notice is the end of the epoch: the update has happened,
    /// and the weights or the test loss are not finite. The update is undone and nothing is recorded.
    func testAnEpochThatEndsNonFiniteIsNotRecordedAndItsUpdateIsUndone() throws {
        let trainer = try trainer(trainCount: 64)
        let before = state(trainer)
        guard case .diverged(let divergence) = trainer.step() else { return XCTFail("the epoch did not diverge") }
        XCTAssertTrue([.weights, .testLoss].contains(divergence.quantity), "\(divergence)")
        XCTAssertEqual(divergence.globalStep, 1)
        XCTAssertEqual(divergence.restoredGlobalStep, 0)
        XCTAssertEqual(state(trainer), before)
        XCTAssertEqual(trainer.completedEpochs, 0)
        XCTAssertTrue(trainer.history.epochs.isEmpty && trainer.history.steps.isEmpty)
        XCTAssertNil(trainer.lastEvaluation)
    }

    func testAHealthyRunIsUnchangedByTheChecks() throws {
        // The same seed twice: the checks and the last-good copies must not change what is computed.
        let first = try trainer(rate: 0.05), second = try trainer(rate: 0.05)
        for _ in 0..<6 {
            guard case .step = first.step(), case .step = second.step() else { return XCTFail("a healthy run diverged") }
        }
        XCTAssertEqual(state(first), state(second))
        XCTAssertEqual(first.globalStep, 6)
    }

    // MARK: - Finite checks

    func testGradientNormIsFiniteForHugeFiniteGradientsAndNotForNaN() throws {
        let parameter = Parameter(name: "w", count: 5, layout: .plain([5]), decays: false)
        for (i, value) in [Float(3e38), -3e38, 1, 0, 2].enumerated() { parameter.gradient.base[i] = value }
        let squared = FiniteCheck.squaredGradientNorm([parameter])
        XCTAssertTrue(squared.isFinite, "summed in Double, 3e38 squared does not overflow")
        XCTAssertEqual(squared, 2 * 9e76, accuracy: 1e74)
        parameter.gradient.base[3] = .nan
        XCTAssertTrue(FiniteCheck.squaredGradientNorm([parameter]).isNaN)
        parameter.gradient.base[3] = -.infinity
        XCTAssertFalse(FiniteCheck.squaredGradientNorm([parameter]).isFinite)
    }

    func testFirstNonFiniteNamesTheTensor() throws {
        let network = try Network("conv8,relu,gap,fc10")
        XCTAssertNil(FiniteCheck.firstNonFinite(in: network.stateTensors))
        network.parameters[2].values[3] = -.infinity
        let found = try XCTUnwrap(FiniteCheck.firstNonFinite(in: network.stateTensors))
        XCTAssertEqual(found.tensor, "fc1.weight")
        XCTAssertEqual(found.value, -.infinity)
        let bytes: [UInt8] = [0, 0, 0x80, 0x3F, 0, 0, 0xC0, 0x7F]  // 1.0, NaN
        XCTAssertEqual(bytes.withUnsafeBytes { FiniteCheck.firstNonFiniteFloat32($0) }, 1)
    }

    // MARK: - Checkpoints

    private func checkpointPath() throws -> String { try makeTemporaryDirectory(self) + "/model.safetensors" }

    func testACheckpointWithANaNWeightIsRefusedNamingFileAndTensor() throws {
        let path = try checkpointPath()
        let network = try Network("conv8,bn,relu,gap,fc10")
        try RunCheckpoint.save(network: network, metadata: [:], to: path)
        var file = try SafeTensors(contentsOf: path)
        let index = try XCTUnwrap(file.tensors.firstIndex { $0.name == "bn1.running_var" })
        var values = try XCTUnwrap(file.tensors[index].floats)
        values[5] = .nan
        file.tensors[index] = SafeTensors.Entry(name: "bn1.running_var", shape: file.tensors[index].shape, floats: values)
        try file.write(to: path)
        let loads: [() throws -> Void] = [{ _ = try RunCheckpoint.load(path) }, { _ = try Classifier.load(path) }]
        for load in loads {
            let error = assertThrows(CheckpointError.self) { try load() }
            XCTAssertEqual(error?.kind, .nonFinite)
            XCTAssertEqual(error?.tensor, "bn1.running_var")
            XCTAssertTrue(error?.description.contains("'\(path)'") ?? false, String(describing: error))
            XCTAssertTrue(error?.description.contains("holds NaN (element 5 of [8])") ?? false, String(describing: error))
        }
    }

    func testNonFiniteWeightsAreNeverSavedAndTheOldFileStays() throws {
        let path = try checkpointPath()
        let network = try Network("conv8,relu,gap,fc10")
        try RunCheckpoint.save(network: network, metadata: [:], to: path)
        let old = try FileBytes.read(path)
        network.parameters[0].values[0] = .infinity
        let error = assertThrows(CheckpointError.self) { try RunCheckpoint.save(network: network, metadata: [:], to: path) }
        XCTAssertEqual(error?.tensor, "conv1.weight")
        XCTAssertEqual(try FileBytes.read(path), old)
        XCTAssertEqual(directoryListing((path as NSString).deletingLastPathComponent), ["model.safetensors"])
    }

    // MARK: - JSON

    func testNonFiniteNumbersBecomeNullAndReadBackAsNaN() throws {
        let object: [String: Any] = [
            "loss": Double.nan, "acc": 0.5, "lr": Float.infinity, "epoch": 3, "flag": true, "name": "x",
            "rows": [[1.0, -Double.infinity], [2.0]], "nested": ["value": -Float.nan],
        ]
        let text = try FiniteJSON.string(object)
        XCTAssertEqual(
            text, #"{"acc":0.5,"epoch":3,"flag":true,"loss":null,"lr":null,"name":"x","nested":{"value":null},"rows":[[1,null],[2]]}"#)
        let parsed = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        XCTAssertTrue(try XCTUnwrap(FiniteJSON.number(parsed["loss"])).isNaN)
        XCTAssertEqual(FiniteJSON.number(parsed["acc"]), 0.5)
        XCTAssertNil(FiniteJSON.number(parsed["name"]))
    }
}
