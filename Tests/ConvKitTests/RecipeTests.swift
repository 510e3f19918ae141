import Foundation
import XCTest
import ConvKit

/// The pieces of `--recipe fast`: patch whitening, the linear schedule, look-ahead and flip averaging.
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

        var config = TrainingConfig.fast(model: "conv16,relu,maxpool,conv16,bn,relu,gap,fc10", epochs: 1, batchSize: 50)
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
        var config = TrainingConfig.fast(model: "conv8,relu,conv8,maxpool,bn,relu,gap,fc10", epochs: 2, batchSize: 64, seed: 4)
        config.whitening = false
        let straight = try Trainer(config: config, dataset: dataset)
        while !straight.isFinished { straight.step() }
        let first = try Trainer(config: config, dataset: dataset)
        for _ in 0..<8 { first.step() }
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("convscope-lookahead-\(getpid()).safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try RunCheckpoint.save(first, to: path)
        let resumed = try RunCheckpoint.resume(path, dataset: dataset)
        XCTAssertTrue(resumed.config.lookahead && resumed.config.testTimeFlip)
        while !resumed.isFinished { resumed.step() }
        for (a, b) in zip(straight.network.parameters, resumed.network.parameters) {
            XCTAssertEqual(a.values.map(\.bitPattern), b.values.map(\.bitPattern), a.name)
        }
    }

    func testFlipAveragingIsTheMeanOfBothViews() throws {
        let dataset = SyntheticDataset.generate(seed: 33, trainCount: 64, testCount: 20)
        let network = try Network("conv8,relu,maxpool,flatten,fc10")
        var random = RandomSource(seed: 1)
        Initializer.he.initialize(network, random: &random)
        var seen: [[Float]] = []
        let evaluation = Trainer.evaluate(classes: 10, on: dataset.test, batchSize: 20, flipAveraging: true) { batch in
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
        // Mirroring twice gives the images back.
        let x = BatchAssembler().tensor(dataset.test, index: 3, into: FloatBuffer())
        XCTAssertEqual(x.mirrored(into: FloatBuffer()).mirrored(into: FloatBuffer()).array, x.array)
        XCTAssertNotEqual(x.mirrored(into: FloatBuffer()).array, x.array)
    }
}
