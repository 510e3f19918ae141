import Foundation
import XCTest
import ConvKit

/// Pruning, int8 quantisation and distillation do what they promise.
final class CompressionTests: XCTestCase {
    private func trained(_ spec: String, trainCount: Int, epochs: Int, seed: UInt64 = 5) throws -> Trainer {
        let dataset = SyntheticDataset.generate(seed: seed, trainCount: trainCount, testCount: 1000)
        let trainer = try Trainer(config: TrainingConfig(model: spec, epochs: epochs, batchSize: 64, seed: 1), dataset: dataset)
        while !trainer.isFinished { trainer.step() }
        return trainer
    }

    private func batch(_ dataset: Dataset, count: Int = 16) -> Tensor {
        var random = RandomSource(seed: 0), labels: [Int] = []
        return BatchAssembler().assemble(
            dataset.test, indices: 0..<count, augmentation: .none, random: &random, into: FloatBuffer(), labels: &labels)
    }

    func testMagnitudePruningZeroesExactlyTheShareAndMatchesTheMaskedModel() throws {
        let trainer = try trained("conv8,bn,relu,maxpool,conv16,relu,gap,fc10", trainCount: 256, epochs: 1)
        let original = trainer.network.copy()
        let pruned = trainer.network.copy()
        let results = MagnitudePruning.prune(pruned, amount: 0.3)
        for (result, (before, parameter)) in zip(results, zip(original.parameters.filter(\.isWeight), pruned.parameters.filter(\.isWeight))) {
            let expectedZeros = Int((0.3 * Float(parameter.count)).rounded())
            XCTAssertEqual(parameter.values.filter { $0 == 0 }.count, expectedZeros, parameter.name)
            XCTAssertEqual(result.zeros, expectedZeros)
            // The zeroed weights are the smallest in magnitude: none kept is smaller than any removed.
            let removed = zip(before.values, parameter.values).filter { $0.1 == 0 }.map { abs($0.0) }
            let kept = zip(before.values, parameter.values).filter { $0.1 != 0 }.map { abs($0.0) }
            XCTAssertLessThanOrEqual(removed.max() ?? 0, kept.min() ?? .infinity, parameter.name)
        }
        // The pruned model computes what the original computes with its weights masked by hand.
        for (parameter, pruneMask) in zip(original.parameters, pruned.parameters) {
            guard let mask = pruneMask.mask else { continue }
            for i in 0..<parameter.count { parameter.value.base[i] *= mask.base[i] }
        }
        let x = batch(trainer.dataset)
        XCTAssertEqual(pruned.forward(x, mode: .inference).array, original.forward(x, mode: .inference).array)

        // Global pruning ranks all layers together: the overall share is exact, per-layer shares differ.
        let global = trainer.network.copy()
        MagnitudePruning.prune(global, amount: 0.5, global: true)
        let weights = global.parameters.filter(\.isWeight)
        let total = weights.map(\.count).reduce(0, +), zeros = weights.map { $0.values.filter { $0 == 0 }.count }.reduce(0, +)
        XCTAssertEqual(zeros, Int((0.5 * Float(total)).rounded()))
        XCTAssertGreaterThan(Set(weights.map { $0.values.filter { $0 == 0 }.count * 100 / $0.count }).count, 1)
    }

    func testPrunedWeightsStayZeroThroughFineTuningAndCheckpoints() throws {
        let trainer = try trained("conv8,relu,maxpool,conv8,relu,gap,fc10", trainCount: 256, epochs: 1)
        MagnitudePruning.prune(trainer.network, amount: 0.4)
        let zeros = trainer.network.parameters.map { $0.values.filter { $0 == 0 }.count }
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("convscope-pruned-\(getpid()).safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try RunCheckpoint.save(trainer, to: path)
        let resumed = try RunCheckpoint.resume(path, dataset: trainer.dataset, epochs: 2)
        while !resumed.isFinished { resumed.step() }
        let after = resumed.network.parameters.map { $0.values.filter { $0 == 0 }.count }
        for (index, parameter) in resumed.network.parameters.enumerated() where parameter.isWeight {
            XCTAssertGreaterThanOrEqual(after[index], zeros[index], "\(parameter.name) regrew pruned weights")
        }
    }

    func testFilterPruningEqualsZeroingTheRemovedChannelsAfterTheirActivation() throws {
        let spec = "conv8,bn,relu,conv12,relu,maxpool,res12s2,res12,conv10,bn,relu,flatten,dropout,fc10"
        let trainer = try trained(spec, trainCount: 256, epochs: 1)
        let original = trainer.network
        let result = try FilterPruning.prune(original, fraction: 0.25)
        // A quarter of 8, 12 and 10 filters: 2, 3 and 2.5 rounded away from zero to 3.
        XCTAssertEqual(result.network.spec.text, "conv6,bn,relu,conv9,relu,maxpool,res12s2m9,res12m9,conv7,bn,relu,flatten,dropout,fc10")
        XCTAssertLessThan(result.network.parameterCount, original.parameterCount)
        let skipped = result.layers.filter { $0.skipped != nil }.map(\.layer)
        XCTAssertEqual(Set(skipped), ["res1.conv2", "res1.shortcut.conv", "res2.conv2"])

        // The original network, run by hand with each pruned channel zeroed right after its activation.
        let x = batch(trainer.dataset)
        func zero(_ t: Tensor, keeping kept: [Int]?) {
            guard let kept else { return }
            let channels = t.shape.channels
            for position in 0..<(t.batch * t.shape.spatialCount) {
                for c in 0..<channels where !kept.contains(c) { t.pointer[position * channels + c] = 0 }
            }
        }
        let layers = original.layers
        // Each pruned conv's channels are zeroed after the last per-channel layer that follows it.
        var zeroAfter: [Int: [Int]] = [:]
        for (index, layer) in layers.enumerated() {
            guard let kept = result.kept[layer.name] else { continue }
            var last = index
            while last + 1 < layers.count,
                layers[last + 1] is BatchNorm2d || layers[last + 1] is Activation || layers[last + 1] is MaxPool2d
            {
                last += 1
            }
            zeroAfter[last] = kept
        }
        var h = x
        for (index, layer) in layers.enumerated() {
            if let block = layer as? ResidualBlock {
                var main = block.relu1.forward(block.bn1.forward(block.conv1.forward(h, mode: .inference), mode: .inference), mode: .inference)
                zero(main, keeping: result.kept[block.conv1.name])
                main = block.bn2.forward(block.conv2.forward(main, mode: .inference), mode: .inference)
                let skip = block.shortcut.map { $0.bn.forward($0.conv.forward(h, mode: .inference), mode: .inference) } ?? h
                let y = Tensor(zeros: h.batch, main.shape)
                for i in 0..<y.count { y.pointer[i] = max(main.pointer[i] + skip.pointer[i], 0) }
                h = y
            } else {
                h = layer.forward(h, mode: .inference)
                zero(h, keeping: zeroAfter[index])
            }
        }
        let expected = h.array
        let actual = result.network.forward(x, mode: .inference).array
        for (a, b) in zip(actual, expected) { XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(b))) }
    }

    /// A measurement asked to stop (the app quitting) gives up instead of finishing the test set.
    func testMeasurementGivesUpWhenAskedToStop() throws {
        let dataset = SyntheticDataset.generate(seed: 1, trainCount: 64, testCount: 256)
        let classifier = Classifier.float(try Network("tiny"))
        let stop = StopSignal()
        let report = ModelReport.measure("tiny", classifier, checkpoint: SafeTensors(), testSet: dataset.test, stoppingWhen: stop)
        XCTAssertNotNil(report?.accuracy)
        stop.raise()
        XCTAssertNil(ModelReport.measure("tiny", classifier, checkpoint: SafeTensors(), testSet: dataset.test, stoppingWhen: stop))
    }

    func testFilterPruningNeverEmptiesALayer() throws {
        let network = try Network("conv2,relu,conv3,relu,gap,fc10")
        let result = try FilterPruning.prune(network, fraction: 0.99)
        XCTAssertEqual(result.network.spec.text, "conv1,relu,conv1,relu,gap,fc10")
    }

    func testInt8InferenceStaysWithinOnePointOfFloatOnSimple() throws {
        let trainer = try trained("simple", trainCount: 4000, epochs: 2)
        let dataset = trainer.dataset
        var random = RandomSource(seed: 3), labels: [Int] = []
        let calibration = (0..<4).map { b in
            BatchAssembler().assemble(
                dataset.train, indices: (b * 128)..<((b + 1) * 128), augmentation: .none, random: &random, into: FloatBuffer(),
                labels: &labels)
        }
        let quantized = QuantizedNetwork.quantize(trainer.network, calibration: calibration)
        let float = Trainer.evaluate(trainer.network, on: dataset.test)
        let int8 = Trainer.evaluate(classes: 10, on: dataset.test) { quantized.forward($0) }
        XCTAssertGreaterThan(float.accuracy, 0.3, "the float model learned something")
        XCTAssertEqual(int8.accuracy, float.accuracy, accuracy: 0.01, "int8 within one percentage point of float")

        // The int8 checkpoint reads back to the same predictions.
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("convscope-int8-\(getpid()).safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try quantized.save(to: path, metadata: [:])
        let (reloaded, metadata) = try Classifier.load(path)
        XCTAssertEqual(metadata[QuantizedNetwork.quantizationKey], QuantizedNetwork.quantizationValue)
        let again = Trainer.evaluate(classes: 10, on: dataset.test) { reloaded.logits($0) }
        XCTAssertEqual(again.predictions, int8.predictions)
        let file = try SafeTensors(contentsOf: path)
        XCTAssertEqual(file["conv1.weight"]?.dtype, .i8)
        XCTAssertNil(file["bn1.running_mean"], "batch norm is folded into the convolution")
    }

    func testADistilledTinyStudentBeatsTheSameStudentTrainedAlone() throws {
        let teacher = try trained("tiny", trainCount: 10_000, epochs: 4, seed: 8).network
        let full = SyntheticDataset.generate(seed: 8, trainCount: 10_000, testCount: 1000)
        let small = Dataset(train: full.train.subset(first: 600), test: full.test, source: full.source)
        func student(distilled: Bool) throws -> Float {
            let config = TrainingConfig(model: "tiny", epochs: 6, batchSize: 50, augmentation: .standard, seed: 2)
            let trainer = try Trainer(config: config, dataset: small)
            if distilled { trainer.teacher = (teacher, DistillationLoss(temperature: 4, alpha: 0.9)) }
            while !trainer.isFinished { trainer.step() }
            return trainer.history.epochs.last!.testAccuracy
        }
        let alone = try student(distilled: false), distilled = try student(distilled: true)
        XCTAssertGreaterThan(distilled, alone, "distilled \(distilled) vs alone \(alone)")
    }

    func testDistillationLossGradientMatchesFiniteDifferences() {
        let loss = DistillationLoss(temperature: 3, alpha: 0.7, hard: CrossEntropyLoss(labelSmoothing: 0.1))
        let shape = FeatureShape(features: 4)
        var logits: [Float] = [0.3, -1.2, 2.0, 0.5, 1.1, 0.0, -0.4, 0.9]
        let teacher = Tensor(batch: 2, shape: shape, values: [1.0, 0.2, 3.0, -1.0, 0.0, 2.5, 0.1, 0.3])
        let gradient = Tensor(zeros: 2, shape)
        _ = loss.evaluate(logits: Tensor(batch: 2, shape: shape, values: logits), teacher: teacher, labels: [2, 1], gradient: gradient)
        let analytic = gradient.array
        let scratch = Tensor(zeros: 2, shape)
        for i in 0..<logits.count {
            let saved = logits[i], h: Float = 1e-2
            logits[i] = saved + h
            let plus = loss.evaluate(logits: Tensor(batch: 2, shape: shape, values: logits), teacher: teacher, labels: [2, 1], gradient: scratch).loss
            logits[i] = saved - h
            let minus = loss.evaluate(logits: Tensor(batch: 2, shape: shape, values: logits), teacher: teacher, labels: [2, 1], gradient: scratch).loss
            logits[i] = saved
            XCTAssertEqual(analytic[i], (plus - minus) / (2 * h), accuracy: 1e-3)
        }
    }
}
