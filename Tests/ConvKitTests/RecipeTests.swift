import Foundation
import XCTest
import ConvKit

/// The pieces of `--recipe quick`: patch whitening, the linear schedule, look-ahead, batch norm trained
/// through its biases, identity initialisation and flip averaging.
final class RecipeTests: XCTestCase {
    func testWhiteningDecorrelatesPatchesAndStaysFrozen() throws {
        let dataset = SyntheticDataset.generate(seed: 31, trainCount: 400, testCount: 50)
        let conv = Conv2d(name: "conv1", input: .cifarImage, outChannels: 16, kernel: 3, stride: 1, padding: 0, bias: true)
        PatchWhitening.initialize(conv, from: dataset.train, sampleImages: 400, epsilon: 1e-6)
        XCTAssertTrue(conv.weight.isFrozen)
        // On the images it was fitted to, the 8 kept directions have unit second moments and no correlation.
        var moments = [Double](repeating: 0, count: 64)
        var count = 0.0
        for index in 0..<400 {
            let y = conv.forward(BatchAssembler().tensor(dataset.train, index: index, into: FloatBuffer()), mode: .inference)
            for p in 0..<conv.outputShape.spatialCount {
                for i in 0..<8 { for j in 0..<8 { moments[i * 8 + j] += Double(y.pointer[p * 16 + i] * y.pointer[p * 16 + j]) } }
                count += 1
            }
        }
        for i in 0..<8 {
            for j in 0..<8 { XCTAssertEqual(moments[i * 8 + j] / count, i == j ? 1 : 0, accuracy: 0.02, "moment (\(i), \(j))") }
        }
        // The second half are the negatives of the first.
        for i in 0..<27 { XCTAssertEqual(conv.weight.value.base[8 * 27 + i], -conv.weight.value.base[i]) }

        var config = TrainingConfig.quick(model: "conv16,relu,maxpool,conv16,bn,relu,gap,fc10", epochs: 1, batchSize: 50)
        config.trainLimit = 100
        let trainer = try Trainer(config: config, dataset: dataset)
        let first = try XCTUnwrap(trainer.network.layers.first as? Conv2d)
        let before = first.weight.values.map { $0 }
        for _ in 0..<2 { trainer.step() }
        XCTAssertEqual(first.weight.values.map { $0 }, before, "the whitening layer does not train")
    }

    func testLinearWarmupAndDecay() {
        let schedule = LearningRateSchedule("linear:0.2")!
        func rate(_ step: Int) -> Float { schedule.rate(peak: 0.4, step: step, totalSteps: 100, stepsPerEpoch: 10) }
        XCTAssertEqual(rate(0), 0.02, accuracy: 1e-6, "first step: 1/20 of the way up")
        XCTAssertEqual(rate(19), 0.4, accuracy: 1e-6, "peak at the end of the warm-up")
        XCTAssertEqual(rate(59), 0.2, accuracy: 1e-2)
        XCTAssertEqual(rate(99), 0.005, accuracy: 1e-6, "last step: 1/80 of the peak")
        XCTAssertEqual(schedule.description, "linear:0.2")
    }

    func testLookaheadRunsResumeExactly() throws {
        let dataset = SyntheticDataset.generate(seed: 32, trainCount: 384, testCount: 64)
        var config = TrainingConfig.quick(model: "conv8,relu,conv8,maxpool,bn,relu,gap,fc10", epochs: 2, batchSize: 64, seed: 4)
        config.speedRun.whitening = false
        let straight = try Trainer(config: config, dataset: dataset)
        while !straight.isFinished { straight.step() }
        let first = try Trainer(config: config, dataset: dataset)
        for _ in 0..<8 { first.step() }
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("convscope-lookahead-\(getpid()).safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try RunCheckpoint.save(first, to: path)
        let resumed = try RunCheckpoint.resume(path, dataset: dataset)
        XCTAssertTrue(resumed.config.optimizer.lookahead && resumed.config.evaluation.testTimeAugmentation == .flipTranslate)
        while !resumed.isFinished { resumed.step() }
        for (a, b) in zip(straight.network.parameters, resumed.network.parameters) {
            XCTAssertEqual(a.values.map(\.bitPattern), b.values.map(\.bitPattern), a.name)
        }
    }

    func testLookaheadAveragesOnlyTowardsTheEnd() throws {
        XCTAssertEqual(LookaheadOptimizer.retention(step: 0, totalSteps: 1000), 0)
        XCTAssertEqual(LookaheadOptimizer.retention(step: 500, totalSteps: 1000), 0.0967, accuracy: 1e-4)
        XCTAssertEqual(LookaheadOptimizer.retention(step: 1000, totalSteps: 1000), 0.7738, accuracy: 1e-4, "0.95^5 at the end")
        // Early in a long run a look-ahead run moves as fast as a plain one.
        let dataset = SyntheticDataset.generate(seed: 34, trainCount: 256, testCount: 16)
        var config = TrainingConfig.quick(model: "conv8,relu,maxpool,bn,relu,gap,fc10", epochs: 40, batchSize: 32, seed: 2)
        config.speedRun.whitening = false
        let averaged = try Trainer(config: config, dataset: dataset)
        config.optimizer.lookahead = false
        let plain = try Trainer(config: config, dataset: dataset)
        let start = plain.network.parameters.map { $0.values.map { $0 } }
        for _ in 0..<5 {
            averaged.step()
            plain.step()
        }
        for ((a, b), initial) in zip(zip(averaged.network.parameters, plain.network.parameters), start) where !b.isFrozen {
            let moved = zip(b.values, initial).map { abs($0 - $1) }.max()!
            let apart = zip(a.values, b.values).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(apart, 1e-3 * moved + 1e-7, "\(a.name): moved \(moved), apart \(apart)")
        }
    }

    func testBatchNormTrainsOnlyItsBiasesAtTheScaledRate() throws {
        let dataset = SyntheticDataset.generate(seed: 35, trainCount: 128, testCount: 16)
        var config = TrainingConfig.quick(model: "conv8,relu,conv8,bn,relu,gap,fc10", epochs: 1, batchSize: 64, seed: 3)
        config.speedRun.whitening = false
        config.optimizer.lookahead = false
        let scaled = try Trainer(config: config, dataset: dataset)
        config.optimizer.groups.batchNormBiasRateScale = nil
        let plain = try Trainer(config: config, dataset: dataset)
        scaled.step()
        plain.step()
        let scaledNorm = try XCTUnwrap(scaled.network.allLayers.compactMap { $0 as? BatchNorm2d }.first)
        let plainNorm = try XCTUnwrap(plain.network.allLayers.compactMap { $0 as? BatchNorm2d }.first)
        XCTAssertEqual(scaledNorm.weight.values.map { $0 }, [Float](repeating: 1, count: 8), "the scales stay at 1")
        XCTAssertNotEqual(plainNorm.weight.values.map { $0 }, [Float](repeating: 1, count: 8))
        // First step from zero biases: no momentum or decay yet, so the shift is exactly 64x larger.
        for c in 0..<8 {
            XCTAssertEqual(scaledNorm.bias.values[c], 64 * plainNorm.bias.values[c], accuracy: 1e-4 * abs(64 * plainNorm.bias.values[c]))
        }
        XCTAssertTrue(scaled.config.summary.contains("bn biases only at 64x lr"), scaled.config.summary)
    }

    func testIdentityInitPassesTheFirstChannelsThrough() throws {
        let dataset = SyntheticDataset.generate(seed: 36, trainCount: 16, testCount: 4)
        let network = try Network("conv6,conv2,gap,fc10")
        var random = RandomSource(seed: 5)
        Initializer.he.initialize(network, random: &random)
        Initializer.setIdentity(network)
        let x = BatchAssembler().tensor(dataset.test, index: 1, into: FloatBuffer())
        _ = network.forward(x, mode: .inference)
        let y = try XCTUnwrap(network.layers[1].lastOutput)
        for p in 0..<(32 * 32) {
            for c in 0..<2 { XCTAssertEqual(y.pointer[p * 2 + c], x.pointer[p * 3 + c], accuracy: 1e-6) }
        }
        let first = try XCTUnwrap(network.layers.first as? Conv2d)
        XCTAssertNotEqual(first.weight.values[5 * 27], 0, "filters past the input's channels keep their random weights")
    }

    func testTestTimeAugmentationAveragesItsViews() throws {
        let dataset = SyntheticDataset.generate(seed: 33, trainCount: 64, testCount: 20)
        let network = try Network("conv8,relu,maxpool,flatten,fc10")
        var random = RandomSource(seed: 1)
        Initializer.he.initialize(network, random: &random)
        var seen: [[Float]] = []
        let evaluation = Evaluator(classes: 10, batchSize: 20, views: .flip).evaluate(dataset.test) { batch in
            let logits = network.forward(batch, mode: .inference)
            seen.append(logits.array)
            return logits
        }
        XCTAssertEqual(seen.count, 2, "one pass on the images, one on their mirrors")
        let averaged = zip(seen[0], seen[1]).map { ($0 + $1) / 2 }
        for image in 0..<20 {
            let row = Array(averaged[(image * 10)..<((image + 1) * 10)])
            XCTAssertEqual(Int(evaluation.predictions[image]), row.indices.max { row[$0] < row[$1] })
        }
        // Six views for flip+translate, half the weight on the unshifted pair.
        let six = TestTimeAugmentation.flipTranslate.views
        XCTAssertEqual(six.count, 6)
        XCTAssertEqual(six.map(\.weight).reduce(0, +), 1, accuracy: 1e-6)
        XCTAssertEqual(six.filter { $0.shift == 0 }.map(\.weight).reduce(0, +), 0.5, accuracy: 1e-6)
        var batches: [Tensor] = []
        _ = Evaluator(classes: 10, batchSize: 20, views: .flipTranslate).evaluate(dataset.test) { batch in
            batches.append(Tensor(batch: batch.batch, shape: batch.shape, values: batch.array))
            return network.forward(batch, mode: .inference)
        }
        XCTAssertEqual(batches.count, 6)
        // The view shifted by +1 shows pixel (x + 1, y + 1) at (x, y), and the mean colour past the edge.
        let shifted = try XCTUnwrap(zip(six, batches).first { $0.0.shift == 1 && !$0.0.flip }?.1)
        let original = batches[0]
        XCTAssertEqual(shifted.sample(0)[(4 * 32 + 7) * 3 + 2], original.sample(0)[(5 * 32 + 8) * 3 + 2])
        XCTAssertEqual(shifted.sample(0)[(31 * 32 + 7) * 3 + 1], 0, "below the image: mean colour")
        let mirror = try XCTUnwrap(zip(six, batches).first { $0.0.shift == 0 && $0.0.flip }?.1)
        XCTAssertEqual(mirror.sample(2)[(9 * 32 + 3) * 3], original.sample(2)[(9 * 32 + 28) * 3], "mirrored left to right")
        // With reflecting borders (`--recipe airbench`) the row below the image repeats the one above the last.
        var reflected: [Tensor] = []
        _ = Evaluator(classes: 10, batchSize: 20, views: .flipTranslate, reflectingBorders: true).evaluate(dataset.test, stoppingWhen: StopSignal()) {
            reflected.append(Tensor(batch: $0.batch, shape: $0.shape, values: $0.array))
            return network.forward($0, mode: .inference)
        }
        let reflectedShift = try XCTUnwrap(zip(six, reflected).first { $0.0.shift == 1 && !$0.0.flip }?.1)
        XCTAssertEqual(reflectedShift.sample(0)[(31 * 32 + 7) * 3 + 1], original.sample(0)[(30 * 32 + 8) * 3 + 1])
        XCTAssertNotEqual(original.sample(0)[(30 * 32 + 8) * 3 + 1], 0)
    }

    func testAlternatingFlipsShowEveryImageBothWays() throws {
        let flips = (0..<2000).map { image in (0..<4).map { BatchSampler.alternatingFlip(image: image, epoch: $0, seed: 7) } }
        for (image, sides) in flips.enumerated() {
            XCTAssertEqual(sides, [sides[0], !sides[0], sides[0], !sides[0]], "image \(image) changes sides every epoch")
        }
        let startMirrored = flips.filter { $0[0] }.count
        XCTAssertTrue((900...1100).contains(startMirrored), "about half start mirrored: \(startMirrored)")
        let otherSeed = (0..<2000).filter { BatchSampler.alternatingFlip(image: $0, epoch: 0, seed: 8) != flips[$0][0] }.count
        XCTAssertTrue((900...1100).contains(otherSeed), "another seed draws other coins: \(otherSeed) differ")

        // In training: the batch of a one-image set is that image, mirrored in one epoch and not the next
        // (no test images, so that the epochs' evaluations leave the flatten layer's last batch alone).
        let dataset = SyntheticDataset.generate(seed: 37, trainCount: 1, testCount: 0)
        var config = TrainingConfig.airbench(model: "flatten,fc10", epochs: 2, batchSize: 1, seed: 7)
        config.speedRun.whitening = false
        config.augmentation.crop = false
        config.augmentation.alternatingFlip = true
        let trainer = try Trainer(config: config, dataset: dataset)
        var seen: [[Float]] = []
        for _ in 0..<2 {
            trainer.step()
            seen.append(try XCTUnwrap(trainer.network.layers.first?.lastOutput).array)  // flatten: the batch itself
        }
        let plain = BatchAssembler().tensor(dataset.train, index: 0, into: FloatBuffer()).array
        var mirror = ImageTransform(source: 0)
        mirror.flip = true
        var labels: [Int] = []
        let mirrored = BatchAssembler().assemble(dataset.train, transforms: [mirror], into: FloatBuffer(), labels: &labels).array
        let expected = BatchSampler.alternatingFlip(image: 0, epoch: 0, seed: 7) ? [mirrored, plain] : [plain, mirrored]
        XCTAssertEqual(seen, expected)
    }

    /// `--recipe airbench` end to end on a small net: it learns, trains batch norm through its biases only and
    /// the classifier at its own rate, and resumes from a checkpoint exactly.
    func testMuonRecipeLearnsAndResumesExactly() throws {
        let dataset = SyntheticDataset.generate(seed: 38, trainCount: 512, testCount: 128)
        var config = TrainingConfig.airbench(model: "conv16,gelu,conv16,maxpool,bn,gelu,conv32,bn,gelu,gap,fc10", epochs: 8, batchSize: 64, seed: 9)
        config.trainLimit = 512
        XCTAssertEqual(config.optimizer.update.kind, .muon)
        XCTAssertTrue(config.summary.contains("muon lr 0.24"), config.summary)
        let straight = try Trainer(config: config, dataset: dataset)
        while !straight.isFinished { straight.step() }
        let history = straight.history.epochs
        XCTAssertLessThan(history.last!.trainLoss, history.first!.trainLoss)
        // Seeds 9-13 ended at 44.5-53.1% on the AVX2 and the portable kernels (AMD EPYC), on 128 test
        // images: three times chance keeps a margin of several of their spreads.
        XCTAssertGreaterThan(history.last!.testAccuracy, 0.3, "chance is 0.1")
        let norm = try XCTUnwrap(straight.network.allLayers.compactMap { $0 as? BatchNorm2d }.first)
        XCTAssertEqual(norm.weight.values.map { $0 }, [Float](repeating: 1, count: 16))

        let first = try Trainer(config: config, dataset: dataset)
        for _ in 0..<first.stepsPerEpoch { first.step() }
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("convscope-muon-\(getpid()).safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try RunCheckpoint.save(first, to: path)
        let resumed = try RunCheckpoint.resume(path, dataset: dataset)
        XCTAssertEqual(resumed.config, config)
        while !resumed.isFinished { resumed.step() }
        for (a, b) in zip(straight.network.parameters, resumed.network.parameters) {
            XCTAssertEqual(a.values.map(\.bitPattern), b.values.map(\.bitPattern), a.name)
        }
    }

    /// airbench's remaining pieces in `--recipe airbench`: a bias-free classifier starting at std 1/256, and a
    /// whitening bias that trains through the first 3 epochs only (the filters never).
    func testMuonRecipeTrainsTheWhiteningBiasEarlyAndKeepsTheClassifierBiasFree() throws {
        let dataset = SyntheticDataset.generate(seed: 39, trainCount: 256, testCount: 32)
        var config = TrainingConfig.airbench(model: "conv16,gelu,maxpool,conv16,bn,gelu,gap,fc10", epochs: 5, batchSize: 64, seed: 3)
        config.trainLimit = 256
        XCTAssertEqual(config.schedule.whiteningBiasEpochs, 3)
        let trainer = try Trainer(config: config, dataset: dataset)
        let classifier = try XCTUnwrap(trainer.network.allLayers.last as? Linear)
        let weights = classifier.weight.values.map { $0 }
        let mean = weights.reduce(0, +) / Float(weights.count)
        let std = (weights.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(weights.count)).squareRoot()
        XCTAssertEqual(std, 1 / 256, accuracy: 1e-6)
        let whitening = try XCTUnwrap(trainer.network.layers.first as? Conv2d)
        let filters = whitening.weight.values.map { $0 }
        var biases = [try XCTUnwrap(whitening.bias).values.map { $0 }]
        while !trainer.isFinished {
            trainer.step()
            if trainer.stepInEpoch == 0 { biases.append(whitening.bias!.values.map { $0 }) }
        }
        for epoch in 1...3 { XCTAssertNotEqual(biases[epoch], biases[epoch - 1], "the whitening bias trains in epoch \(epoch)") }
        XCTAssertEqual(biases[4], biases[3], "and stops after epoch 3")
        XCTAssertEqual(biases[5], biases[3])
        XCTAssertEqual(whitening.weight.values.map { $0 }, filters, "the whitening filters stay fixed")
        XCTAssertEqual(classifier.bias.values.map { $0 }, [Float](repeating: 0, count: 10), "the classifier has no bias")
        XCTAssertNotEqual(classifier.weight.values.map { $0 }, weights, "its weights train")
    }
}
