import Foundation
import XCTest
import ConvKit

/// The health timeline: its histogram bins, what the recorder measures (dead units, zero filters, update
/// ratios), that recording leaves training unchanged, the alarm rules, and the history's way through a
/// checkpoint and a divergence.
final class HealthTests: XCTestCase {
    private func trainer(model: String = "tiny", every: Int? = 1, rate: Float = 0.05, trainCount: Int = 256) throws -> Trainer {
        let dataset = SyntheticDataset.generate(seed: 5, trainCount: trainCount, testCount: 40)
        let config = TrainingConfig(
            model: model, epochs: 2, batchSize: 32, learningRate: rate, schedule: .constant, augmentation: .none, seed: 1)
        let trainer = try Trainer(config: config, dataset: dataset)
        trainer.health.settings.every = every
        return trainer
    }

    // MARK: - Histogram

    func testBinsAreOctavesOfTheMagnitudeWithZerosAndExtremesApart() {
        XCTAssertEqual(HealthHistogram.bin(of: 0), 0)
        XCTAssertEqual(HealthHistogram.bin(of: -0.0), 0)
        XCTAssertEqual(HealthHistogram.bin(of: 1), HealthHistogram.bin(of: 1.99))
        XCTAssertEqual(HealthHistogram.bin(of: 1)! + 1, HealthHistogram.bin(of: 2))
        XCTAssertEqual(HealthHistogram.bin(of: -0.3), HealthHistogram.bin(of: 0.3), "magnitudes: the sign does not matter")
        XCTAssertEqual(HealthHistogram.lowerEdge(of: HealthHistogram.bin(of: 0.3)!), 0.25)
        XCTAssertEqual(HealthHistogram.bin(of: 1e-30), 1, "tiny values share the lowest magnitude bin")
        XCTAssertEqual(HealthHistogram.bin(of: .leastNonzeroMagnitude), 1, "subnormals too")
        XCTAssertEqual(HealthHistogram.bin(of: 1e30), HealthHistogram.binCount - 1)
        XCTAssertNil(HealthHistogram.bin(of: .nan))
        XCTAssertNil(HealthHistogram.bin(of: -.infinity))
    }

    func testAQuantisedHistogramKeepsRareBinsVisibleAndSharesClose() {
        var counts = [Int](repeating: 0, count: HealthHistogram.binCount)
        counts[3] = 1
        counts[10] = 49_999
        let histogram = HealthHistogram(counts: counts)
        XCTAssertGreaterThan(histogram.bins[3], 0, "one value in 50 000 still shows")
        XCTAssertEqual(histogram.share(10), 1, accuracy: 0.01)
        counts[3] = 25_000
        counts[10] = 75_000
        XCTAssertEqual(HealthHistogram(counts: counts).share(3), 0.25, accuracy: 0.005)
        var tally = HealthHistogram.Tally()
        [3, 4, 0, .nan].withUnsafeBufferPointer { tally.add($0.baseAddress!, count: 4) }
        XCTAssertEqual(tally.norm, 5)
        XCTAssertEqual(tally.nonFinite, 1)
        XCTAssertEqual(tally.counts[0], 1)
    }

    // MARK: - Recording

    func testRecordingLeavesTrainingBitForBitUnchanged() throws {
        let plain = try trainer(every: 0), recorded = try trainer(every: 1)
        for _ in 0..<10 {
            plain.step()
            recorded.step()
        }
        XCTAssertTrue(plain.health.history.isEmpty)
        XCTAssertEqual(recorded.health.history.records.count, 10)
        for (a, b) in zip(plain.network.stateTensors + plain.resumableState, recorded.network.stateTensors + recorded.resumableState) {
            guard case let .float(x, layout) = a.content, case let .float(y, _) = b.content else { continue }
            XCTAssertEqual(x.array(layout.count).map(\.bitPattern), y.array(layout.count).map(\.bitPattern), a.name)
        }
        XCTAssertEqual(plain.history.steps.map(\.loss), recorded.history.steps.map(\.loss))
    }

    func testTheRecordHoldsThisStepsUpdateRatioAndGradientNorms() throws {
        let trainer = try trainer()
        trainer.step()
        let conv = trainer.network.layers[0] as! Conv2d
        let before = conv.weight.value.array(conv.weight.count)
        trainer.step()
        let after = conv.weight.value.array(conv.weight.count)
        let change = zip(after, before).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +).squareRoot()
        let norm = before.map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
        let record = try XCTUnwrap(trainer.health.history.records.last)
        XCTAssertEqual(record.step, 2)
        XCTAssertEqual(trainer.health.history.layers, ["conv1", "conv2", "conv3", "fc1"])
        XCTAssertEqual(Double(record.layers[0].updateRatio), change / norm, accuracy: 1e-4 * change / norm)
        XCTAssertEqual(Double(record.layers[0].weightNorm), after.map { Double($0) * Double($0) }.reduce(0, +).squareRoot(), accuracy: 1e-3)
        let gradients = conv.parameters.flatMap { $0.gradient.array($0.count) }
        XCTAssertEqual(
            Double(record.layers[0].gradientNorm), gradients.map { Double($0) * Double($0) }.reduce(0, +).squareRoot(), accuracy: 1e-4,
            "the gradients of this step (the optimiser leaves them in place)")
        XCTAssertGreaterThanOrEqual(record.gradientNorm, record.layers.map(\.gradientNorm).max()!)
        XCTAssertEqual(record.learningRate, 0.05)
    }

    func testFiltersThatNeverFireAreCountedDeadOnTheProbeBatch() throws {
        let trainer = try trainer()
        let conv = trainer.network.layers[0] as! Conv2d
        // 10 of the first layer's 16 filters get a bias no input overcomes: their ReLU outputs are zero everywhere.
        XCTAssertEqual(conv.weight.filterCount, 16)
        for f in 0..<10 { conv.bias!.values[f] = -1e4 }
        conv.bias!.isFrozen = true
        trainer.step()
        let first = try XCTUnwrap(trainer.health.history.records.last).layers[0]
        XCTAssertEqual(first.zeroFilterShare, 0.625, "10 of 16 filters are zero for every probe image")
        XCTAssertGreaterThanOrEqual(first.deadShare, 0.625)
        XCTAssertLessThan(first.deadShare, 0.9)
        XCTAssertGreaterThan(first.activations.bins[0], 0, "the zero bin holds the dead outputs")
        XCTAssertTrue(
            trainer.health.history.alarms.contains { $0.layer == "conv1" && { if case .deadUnits = $0.kind { true } else { false } }($0) },
            "\(trainer.health.history.alarms)")
        XCTAssertEqual(trainer.health.takeRaisedAlarms().filter { $0.layer == "conv1" }.count, 1)
        trainer.step()
        XCTAssertTrue(trainer.health.takeRaisedAlarms().filter { $0.layer == "conv1" }.isEmpty, "a standing alarm is raised once")
    }

    func testTheCadenceRecordsEarlyStepsThenMultiplesAndThinsPastCapacity() throws {
        // 512 images: 16 steps an epoch, so the 32 steps below fit the run's two epochs.
        let trainer = try trainer(every: 8, trainCount: 512)
        trainer.health.settings.capacity = 6
        for _ in 0..<16 { trainer.step() }
        // Steps 1, 2, 4 (before the first multiple), then 8 and 16.
        XCTAssertEqual(trainer.health.history.records.map(\.step), [1, 2, 4, 8, 16])
        for _ in 0..<16 { trainer.step() }
        XCTAssertLessThanOrEqual(trainer.health.history.records.count, 6)
        XCTAssertEqual(trainer.health.history.every, 16, "thinned once: every other record kept, cadence doubled")
        XCTAssertEqual(trainer.health.history.records.first?.step, 1)
        XCTAssertEqual(trainer.health.history.records.last?.step, 32)
    }

    func testResidualBlocksTrackEachConvolutionWithItsActivation() throws {
        let network = try Network("conv16,bn,relu,res16,gap,fc10")
        let recorder = HealthRecorder(
            network: network, probe: SyntheticDataset.generate(seed: 1, trainCount: 8, testCount: 8).test, stepsPerEpoch: 10, peakRate: 0.1)
        XCTAssertEqual(recorder.history.layers, ["conv1", "res1.conv1", "res1.conv2", "fc1"])
    }

    // MARK: - Alarms

    private func history(ratios: [Float], norms: [Float]? = nil, dead: Float = 0, rate: Float = 0.1) -> HealthHistory {
        var history = HealthHistory(layers: ["conv1"], every: 10)
        for (index, ratio) in ratios.enumerated() {
            let layer = LayerHealth(
                weightNorm: 1, gradientNorm: 1, updateRatio: ratio, deadShare: dead, zeroFilterShare: 0, weights: .empty,
                gradients: .empty, activations: .empty)
            history.records.append(
                HealthRecord(step: (index + 1) * 10, loss: 1, learningRate: rate, gradientNorm: norms?[index] ?? 1, layers: [layer]))
        }
        return history
    }

    private func alarms(_ history: HealthHistory, deadApplies: Bool = true) -> [HealthAlarm] {
        HealthAlarmRules.alarms(
            in: history, settings: HealthSettings(), peakRate: 0.1, trains: [true], deadApplies: [deadApplies], nonFiniteActivations: [])
    }

    func testAnUpdateRatioFarFromTheRuleOfThumbMustPersistToRaiseAnAlarm() {
        XCTAssertTrue(alarms(history(ratios: [1e-3, 2e-3, 5e-4, 1e-3, 3e-3])).isEmpty, "healthy")
        XCTAssertTrue(alarms(history(ratios: [1e-3, 0.2, 0.2, 0.2, 0.2])).isEmpty, "four records are not yet persistent")
        let high = alarms(history(ratios: [0.2, 0.2, 0.2, 0.2, 0.2]))
        XCTAssertEqual(high.count, 1)
        XCTAssertEqual(high.first?.layer, "conv1")
        XCTAssertFalse(alarms(history(ratios: [1e-6, 1e-6, 1e-6, 1e-6, 1e-6])).isEmpty, "too small while the rate is high")
        XCTAssertTrue(alarms(history(ratios: [1e-6, 1e-6, 1e-6, 1e-6, 1e-6], rate: 0.001)).isEmpty, "the schedule's tail is quiet")
    }

    func testAGradientSpikeIsMeasuredAgainstTheRunningMedian() {
        let calm = [Float](repeating: 2, count: 12)
        XCTAssertTrue(alarms(history(ratios: [Float](repeating: 1e-3, count: 13), norms: calm + [15])).isEmpty, "7.5x is not a spike")
        let spike = alarms(history(ratios: [Float](repeating: 1e-3, count: 13), norms: calm + [25]))
        guard case let .gradientSpike(norm, median) = spike.first?.kind else { return XCTFail("\(spike)") }
        XCTAssertEqual(norm, 25)
        XCTAssertEqual(median, 2)
        XCTAssertTrue(alarms(history(ratios: [1e-3, 1e-3, 1e-3], norms: [1, 1, 100])).isEmpty, "no median yet: no alarm")
    }

    func testDeadShareAlarmsOnlyWhereUnitsCanDie() {
        XCTAssertEqual(alarms(history(ratios: [1e-3], dead: 0.6)).count, 1)
        XCTAssertTrue(alarms(history(ratios: [1e-3], dead: 0.4)).isEmpty)
        XCTAssertTrue(alarms(history(ratios: [1e-3], dead: 0.6), deadApplies: false).isEmpty)
    }

    // MARK: - Checkpoints and divergences

    func testTheHistoryGoesThroughACheckpointAndOlderCheckpointsStillLoad() throws {
        let trainer = try trainer(every: 2)
        for _ in 0..<8 { trainer.step() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("health-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/run.safetensors"
        try RunCheckpoint.save(trainer, to: path)
        let resumed = try RunCheckpoint.resume(path, dataset: trainer.dataset)
        XCTAssertEqual(resumed.health.history.records, trainer.health.history.records)
        XCTAssertEqual(resumed.health.history.alarmLog, trainer.health.history.alarmLog)
        XCTAssertEqual(resumed.health.history.every, 2)
        resumed.step()
        resumed.step()
        XCTAssertEqual(resumed.health.history.records.count, trainer.health.history.records.count + 1, "and goes on at its cadence")

        // A checkpoint written before the timeline existed: no `health` entry.
        var file = try SafeTensors(contentsOf: path)
        file.metadata[HealthHistory.metadataKey] = nil
        try file.write(to: path)
        let older = try RunCheckpoint.resume(path, dataset: trainer.dataset)
        XCTAssertTrue(older.health.history.isEmpty)
        XCTAssertNil(try RunCheckpoint.load(path).health)
        older.step()
        XCTAssertEqual(older.health.history.records.count, 1)
    }

    func testAMangledHistoryIsIgnoredNotFatal() throws {
        let trainer = try trainer()
        for _ in 0..<3 { trainer.step() }
        let text = trainer.health.history.metadataValue
        XCTAssertEqual(HealthHistory(metadataValue: text), trainer.health.history.withoutOverhead)
        XCTAssertNil(HealthHistory(metadataValue: "not json"))
        XCTAssertNil(HealthHistory(metadataValue: text.replacingOccurrences(of: "\"version\":1", with: "\"version\":99")))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        var truncated = object
        truncated["records"] = String((object["records"] as! String).dropLast(8))
        XCTAssertNil(HealthHistory(metadataValue: String(decoding: try JSONSerialization.data(withJSONObject: truncated), as: UTF8.self)))
    }

    func testADivergenceDropsTheLostRecordsAndRaisesANonFiniteAlarm() throws {
        let trainer = try trainer(rate: 1e30, trainCount: 512)
        var diverged: Divergence?
        for _ in 0..<20 {
            if case .diverged(let divergence) = trainer.step() {
                diverged = divergence
                break
            }
        }
        let divergence = try XCTUnwrap(diverged)
        XCTAssertTrue(trainer.health.history.records.allSatisfy { $0.step <= divergence.restoredGlobalStep })
        let raised = trainer.health.takeRaisedAlarms()
        XCTAssertTrue(raised.contains { if case .nonFinite = $0.kind { true } else { false } }, "\(raised)")
    }
}

extension HealthHistory {
    /// The history as a checkpoint stores it: the session's measured overhead is not kept.
    fileprivate var withoutOverhead: HealthHistory {
        var copy = self
        copy.overhead = 0
        return copy
    }
}
