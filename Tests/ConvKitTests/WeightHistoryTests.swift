import Foundation
import TestSupport
import XCTest
import ConvKit

/// The time scrubber's engine: the cadence, the budget's even thinning, snapshots that restore the exact
/// weights, the file beside the checkpoint (round trip, refusals), a divergence, and the cursor source that
/// shows a past time through `WeightsSource`.
final class WeightHistoryTests: XCTestCase {
    /// The tiny model on 256 synthetic images in batches of 32: 8 steps an epoch.
    private func trainer(epochs: Int = 2, cadence: SnapshotCadence = SnapshotCadence(earlySteps: [0, 3])) throws -> Trainer {
        let dataset = SyntheticDataset.generate(seed: 5, trainCount: 256, testCount: 40)
        let config = TrainingConfig(
            model: "tiny", epochs: epochs, batchSize: 32, learningRate: 0.05, schedule: .constant, augmentation: .none, seed: 1)
        let trainer = try Trainer(config: config, dataset: dataset)
        trainer.weightHistory.cadence = cadence
        return trainer
    }

    private func snapshot(step: Int, floats: Int = 100) -> WeightSnapshot {
        WeightSnapshot(step: step, epoch: 0, floats: [Float](repeating: Float(step), count: floats), counters: [])
    }

    // MARK: - Cadence and budget

    func testDefaultCadenceKeepsTheStartTheFirstStepsAndEveryEpochEnd() {
        let cadence = SnapshotCadence()
        let kept = (0...1000).filter { cadence.records(completedSteps: $0, epochEnded: $0 % 390 == 0 && $0 > 0) }
        XCTAssertEqual(kept, [0, 10, 100, 390, 780])
        var every = cadence
        every.everySteps = 250
        XCTAssertEqual((0...1000).filter { every.records(completedSteps: $0, epochEnded: false) }, [0, 10, 100, 250, 500, 750, 1000])
        XCTAssertFalse(SnapshotCadence.off.isEnabled)
        XCTAssertFalse(SnapshotCadence.off.records(completedSteps: 0, epochEnded: true))
        XCTAssertNotNil(SnapshotCadence(budgetBytes: -1).problem)
        XCTAssertNotNil(SnapshotCadence(earlySteps: [-3]).problem)
        XCTAssertNil(SnapshotCadence().problem)
    }

    /// The count the memory guard sizes the history with is the number of steps `records` keeps, each once.
    func testTheSnapshotCountOfARunIsTheStepsItRecords() {
        var generator = RandomSource(seed: 11)
        for _ in 0..<300 {
            let early = (0..<Int(generator.next() % 4)).map { _ in Int(generator.next() % 60) - 2 }
            let every = [nil, 0, 1, 3, 7, 12][Int(generator.next() % 6)]
            let cadence = SnapshotCadence(
                earlySteps: early, everyEpoch: generator.next() % 3 != 0, everySteps: every,
                budgetBytes: generator.next() % 5 == 0 ? 0 : 1 << 20)
            let stepsPerEpoch = 1 + Int(generator.next() % 9), epochs = Int(generator.next() % 7)
            let recorded = (0...stepsPerEpoch * epochs).filter { step in
                cadence.records(completedSteps: step, epochEnded: step > 0 && step % stepsPerEpoch == 0)
            }
            XCTAssertEqual(
                cadence.snapshotCount(stepsPerEpoch: stepsPerEpoch, epochs: epochs), recorded.count,
                "\(cadence), \(epochs) epochs of \(stepsPerEpoch)")
        }
        // A run of more steps than an Int holds is sized at once, by arithmetic: every millionth step ends an epoch
        // too, and steps 0, 10 and 100 come on top of the epochs' ends.
        let huge = SnapshotCadence(everySteps: 1_000_000).snapshotCount(stepsPerEpoch: 50_000, epochs: .max)
        XCTAssertEqual(huge, Int.max / 50_000 + 3)
    }

    func testCadenceIsCodableData() throws {
        let cadence = SnapshotCadence(earlySteps: [0, 5], everyEpoch: false, everySteps: 50, budgetBytes: 1 << 20)
        let decoded = try JSONDecoder().decode(SnapshotCadence.self, from: JSONEncoder().encode(cadence))
        XCTAssertEqual(decoded, cadence)
    }

    func testOverBudgetTheHistoryThinsEvenlyKeepingTheFirstAndTheNewest() {
        // Five snapshots of 400 bytes fit in 2000; the sixth makes the history drop the one whose neighbours are closest.
        var history = WeightHistory(cadence: SnapshotCadence(budgetBytes: 2000))
        for step in [0, 10, 100, 390, 780] { history.add(snapshot(step: step)) }
        XCTAssertEqual(history.byteCount, 2000)
        history.add(snapshot(step: 1170))
        XCTAssertEqual(history.snapshots.map(\.step), [0, 100, 390, 780, 1170], "step 10 sat in the smallest gap (0..100)")
        XCTAssertLessThanOrEqual(history.byteCount, 2000)
        for step in stride(from: 1560, through: 7800, by: 390) { history.add(snapshot(step: step)) }
        XCTAssertEqual(history.count, 5)
        XCTAssertEqual(history.snapshots.first?.step, 0, "the initialisation stays")
        XCTAssertEqual(history.snapshots.last?.step, 7800, "the newest stays")
        let gaps = zip(history.snapshots.dropFirst(), history.snapshots).map { $0.step - $1.step }
        XCTAssertLessThanOrEqual(gaps.max()!, 3 * gaps.min()!, "kept moments spread over the run: \(history.snapshots.map(\.step))")
        XCTAssertEqual(history.thinned, 18)

        var tight = WeightHistory(cadence: SnapshotCadence(budgetBytes: 300))
        tight.add(snapshot(step: 0))
        XCTAssertTrue(tight.isEmpty, "a snapshot larger than the whole budget is not kept")
    }

    func testAnEpochEndAtAnEarlyStepReplacesItAndLoweringTheBudgetThins() {
        var history = WeightHistory(cadence: SnapshotCadence(budgetBytes: 10_000))
        history.add(snapshot(step: 10))
        var end = snapshot(step: 10)
        end.evaluation = Evaluation(loss: 1, accuracy: 0.5, confusion: [[1, 1], [0, 2]], predictions: [0, 1, 1, 1])
        history.add(end)
        XCTAssertEqual(history.count, 1)
        XCTAssertEqual(history.snapshots[0].evaluation?.accuracy, 0.5)
        history.add(snapshot(step: 20))
        history.cadence.budgetBytes = 400
        XCTAssertEqual(history.snapshots.map(\.step), [20])
    }

    // MARK: - Recording while training

    func testTheTrainerKeepsSnapshotsAtItsCadenceWithEachEpochsEvaluation() throws {
        let trainer = try trainer()
        var weightsAfter: [Int: [Float]] = [:]
        while !trainer.isFinished {
            trainer.step()
            weightsAfter[trainer.globalStep] = WeightSnapshot(capturing: trainer.network, step: 0, epoch: 0).floats
        }
        XCTAssertEqual(trainer.weightHistory.snapshots.map(\.step), [0, 3, 8, 16])
        XCTAssertEqual(trainer.weightHistory.snapshots.map(\.epoch), [0, 0, 1, 2])
        XCTAssertNil(trainer.weightHistory.snapshots[1].evaluation)
        XCTAssertEqual(trainer.weightHistory.snapshots[2].evaluation?.confusion.count, 10, "an epoch's end keeps its evaluation")
        XCTAssertEqual(trainer.weightHistory.snapshots[3].evaluation, trainer.lastEvaluation)
        for step in [3, 8, 16] {
            XCTAssertEqual(trainer.weightHistory.snapshot(atStep: step)?.floats, weightsAfter[step], "step \(step): the weights as they were")
        }
        XCTAssertNotEqual(trainer.weightHistory.snapshots[0].floats, weightsAfter[16])
        XCTAssertGreaterThan(trainer.snapshotSeconds, 0)
    }

    func testKeepingSnapshotsLeavesTrainingBitForBitUnchanged() throws {
        let plain = try trainer(epochs: 1, cadence: .off), recorded = try trainer(epochs: 1, cadence: SnapshotCadence(earlySteps: [0, 1, 2, 3, 4, 5]))
        while !plain.isFinished {
            plain.step()
            recorded.step()
        }
        XCTAssertTrue(plain.weightHistory.isEmpty)
        XCTAssertEqual(recorded.weightHistory.count, 7)
        XCTAssertEqual(WeightSnapshot(capturing: plain.network, step: 0, epoch: 0), WeightSnapshot(capturing: recorded.network, step: 0, epoch: 0))
    }

    func testASnapshotRestoresTheExactNetworkItWasTakenFrom() throws {
        let trainer = try trainer(epochs: 1)
        for _ in 0..<4 { trainer.step() }
        let past = try XCTUnwrap(trainer.weightHistory.snapshot(atStep: 3))
        let copy = trainer.network.copy()
        past.restore(into: copy)
        XCTAssertEqual(WeightSnapshot(capturing: copy, step: 3, epoch: 0), past)
        XCTAssertNotEqual(WeightSnapshot(capturing: trainer.network, step: 3, epoch: 0).floats, past.floats, "training moved on")
        XCTAssertFalse(past.fits(try Network(spec: ModelSpec("conv4,relu,gap,fc10"))))
    }

    // MARK: - The file beside the checkpoint

    func testTheHistoryRoundTripsBesideTheCheckpointAndResumes() throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory + "/run.safetensors"
        let trainer = try trainer(epochs: 2)
        for _ in 0..<9 { trainer.step() }
        try RunCheckpoint.save(trainer, to: path)
        let file = WeightHistoryFile.path(besideCheckpoint: path)
        XCTAssertEqual(file, path + ".history.safetensors")
        XCTAssertTrue(FileManager.default.fileExists(atPath: file))
        XCTAssertEqual(directoryListing(directory).sorted(), ["run.safetensors", "run.safetensors.history.safetensors"], "no temporaries left")

        let loaded = try WeightHistoryFile.load(file, network: trainer.network)
        XCTAssertEqual(loaded.snapshots, trainer.weightHistory.snapshots, "weights, counters, epochs and evaluations round-trip exactly")
        XCTAssertEqual(loaded.cadence, trainer.weightHistory.cadence)

        let raw = try SafeTensors(contentsOf: file)
        XCTAssertNotNil(raw["step_8.conv1.weight"], "PyTorch names under a step prefix")
        // Written one tensor at a time from the snapshots, it is the whole file image byte for byte.
        XCTAssertEqual(
            try Data(contentsOf: URL(fileURLWithPath: file)), WeightHistoryFile.safeTensors(trainer.weightHistory, network: trainer.network).data())
        XCTAssertNotNil(raw["step_8.predictions"])
        // Each step's tensors are that moment's state dict, as a checkpoint of the network then would hold them.
        let then = trainer.network.copy()
        trainer.weightHistory.snapshots.last!.restore(into: then)
        for entry in StateDict.entries(from: then.stateTensors) {
            XCTAssertEqual(raw["step_8." + entry.name]?.bytes, entry.bytes, entry.name)
            XCTAssertEqual(raw["step_8." + entry.name]?.shape, entry.shape, entry.name)
        }

        let resumed = try RunCheckpoint.resume(path, dataset: trainer.dataset)
        XCTAssertNil(resumed.weightHistoryProblem)
        XCTAssertEqual(resumed.weightHistory.snapshots.map(\.step), [0, 3, 8])
        resumed.step()
        XCTAssertEqual(resumed.weightHistory.snapshots.map(\.step), [0, 3, 8, 10], "the resumed run goes on at its own cadence (step 10)")
    }

    func testAHistoryForAnotherModelOrDamagedIsRefusedInOneLineNeverATrap() throws {
        let directory = try makeTemporaryDirectory(self)
        let path = directory + "/run.safetensors"
        let trainer = try trainer(epochs: 1)
        for _ in 0..<4 { trainer.step() }
        try RunCheckpoint.save(trainer, to: path)
        let file = WeightHistoryFile.path(besideCheckpoint: path)

        let other = try Network(spec: ModelSpec("conv4,relu,gap,fc10"))
        XCTAssertThrowsError(try WeightHistoryFile.load(file, network: other)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains(file) && text.contains("is for model"), text)
            XCTAssertFalse(text.contains("\n"))
        }

        // Truncated: the checkpoint still resumes, with the problem in one line and an empty history.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: file))
        let resumed = try RunCheckpoint.resume(path, dataset: trainer.dataset)
        XCTAssertTrue(resumed.weightHistory.isEmpty)
        let problem = try XCTUnwrap(resumed.weightHistoryProblem)
        XCTAssertTrue(problem.contains(file), problem)
        XCTAssertFalse(problem.contains("\n"), problem)

        // Not a history at all (a checkpoint put in its place).
        try FileManager.default.removeItem(atPath: file)
        try FileManager.default.copyItem(atPath: path, toPath: file)
        XCTAssertThrowsError(try WeightHistoryFile.load(file, network: trainer.network)) { error in
            XCTAssertTrue("\(error)".contains("not a convscope weight history"), "\(error)")
        }

        // A snapshot with a tensor missing.
        var history = WeightHistoryFile.safeTensors(trainer.weightHistory, network: trainer.network)
        history.tensors.removeAll { $0.name == "step_3.conv1.weight" }
        XCTAssertThrowsError(try WeightHistoryFile.read(history, path: "h", network: trainer.network)) { error in
            XCTAssertTrue("\(error)".contains("lacks tensor 'step_3.conv1.weight'"), "\(error)")
        }

        // An evaluation whose numbers no Float holds (another program's file; the history fuzz harness found that
        // they read as infinities, which do not write back): read as missing.
        var evaluated = WeightHistory()
        let zeros = [[Int]](repeating: [Int](repeating: 0, count: 10), count: 10)
        evaluated.add(WeightSnapshot(
            capturing: trainer.network, step: 5, epoch: 0,
            evaluation: Evaluation(loss: 1, accuracy: 0.5, confusion: zeros, predictions: [UInt8](repeating: 3, count: 40))))
        var image = WeightHistoryFile.safeTensors(evaluated, network: trainer.network)
        var records = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(image.metadata[WeightHistoryFile.snapshotsKey]!.utf8)) as? [[String: Any]])
        records[0]["loss"] = 1e300
        records[0]["accuracy"] = -1e300
        image.metadata[WeightHistoryFile.snapshotsKey] = String(decoding: try JSONSerialization.data(withJSONObject: records), as: UTF8.self)
        let evaluation = try XCTUnwrap(try WeightHistoryFile.read(image, path: "h", network: trainer.network).snapshots.first?.evaluation)
        XCTAssertTrue(evaluation.loss.isNaN, "\(evaluation.loss)")
        XCTAssertEqual(evaluation.accuracy, 0)
        XCTAssertEqual(evaluation.predictions, [UInt8](repeating: 3, count: 40))
    }

    func testADivergenceForgetsTheSnapshotsAfterWhereTheRunWentBack() throws {
        var history = WeightHistory()
        for step in [0, 10, 100, 390] { history.add(snapshot(step: step)) }
        history.dropSnapshots(after: 100)
        XCTAssertEqual(history.snapshots.map(\.step), [0, 10, 100])
        XCTAssertEqual(history.byteCount, 1200)
    }

    // MARK: - The cursor

    func testTheCursorSourceShowsAPastTimeThroughWeightsSource() throws {
        let trainer = try trainer(epochs: 2)
        let session = TrainingSession(trainer: trainer, paused: true, checkpointPath: "/nonexistent/unused.safetensors")
        defer { session.stop() }
        session.step(9)
        let deadline = Date().addingTimeInterval(30)
        while session.snapshot.globalStep < 9 || session.snapshot.state != .paused {
            XCTAssertLessThan(Date(), deadline)
            Thread.sleep(forTimeInterval: 0.01)
        }
        let live = session.snapshot
        XCTAssertEqual(live.weightHistory.snapshots.map(\.step), [0, 3, 8])
        let cursor = TimeCursorSource(live: session)
        XCTAssertEqual(cursor.copyNetwork().version, 9, "live until moved")
        let past = live.weightHistory.snapshots[1]
        cursor.show(past)
        let (network, version) = cursor.copyNetwork()
        XCTAssertEqual(version, 3)
        XCTAssertEqual(WeightSnapshot(capturing: network, step: 3, epoch: 0), past)
        let target = session.copyNetwork().network
        XCTAssertEqual(cursor.copyWeights(into: target), 3)
        XCTAssertEqual(WeightSnapshot(capturing: target, step: 3, epoch: 0), past)
        XCTAssertEqual(cursor.snapshot.weightsVersion, 3)
        XCTAssertNil(cursor.snapshot.lastEvaluation, "step 3 was kept without an evaluation")
        cursor.show(live.weightHistory.snapshots[2])
        XCTAssertEqual(cursor.snapshot.lastEvaluation, live.weightHistory.snapshots[2].evaluation)
        XCTAssertEqual(cursor.snapshot.globalStep, 9, "the run's own progress stays live")
        cursor.show(nil)
        XCTAssertEqual(cursor.copyWeights(into: target), 9)
    }
}
