import Foundation
import XCTest
@testable import ConvKit

final class SyntheticDatasetTests: XCTestCase {
    func testSameSeedSameBytesDifferentSeedDifferentBytes() {
        let a = SyntheticDataset.generate(seed: 42, trainCount: 500, testCount: 100)
        let b = SyntheticDataset.generate(seed: 42, trainCount: 500, testCount: 100)
        let c = SyntheticDataset.generate(seed: 43, trainCount: 500, testCount: 100)
        XCTAssertEqual(a.train, b.train)
        XCTAssertEqual(a.test, b.test)
        XCTAssertNotEqual(a.train.pixels, c.train.pixels)
        XCTAssertNotEqual(a.test.pixels, c.test.pixels)
        XCTAssertNotEqual(Array(a.train.pixels.prefix(100 * 3072)), a.test.pixels, "train and test are drawn separately")
        // A prefix of a larger set is the smaller set: image i depends only on the seed, split and i.
        XCTAssertEqual(SyntheticDataset.images(seed: 42, split: 0, count: 200), a.train.subset(first: 200))
    }

    func testDefaultSetIsBalancedLabelledLoudlyAndFast() {
        let start = DispatchTime.now().uptimeNanoseconds
        let dataset = SyntheticDataset.generate(seed: 1)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print("SyntheticDataset.generate(seed: 1): \(dataset.train.count) + \(dataset.test.count) images in \(String(format: "%.3f", seconds)) s")
        XCTAssertLessThan(seconds, 2, "generation should take well under a second in release builds")
        XCTAssertEqual(dataset.train.count, 10_000)
        XCTAssertEqual(dataset.test.count, 2_000)
        XCTAssertEqual(dataset.train.classCounts(), [Int](repeating: 1000, count: 10))
        XCTAssertEqual(dataset.test.classCounts(), [Int](repeating: 200, count: 10))
        XCTAssertEqual(dataset.displayName, "SYNTHETIC")
        XCTAssertTrue(dataset.isSynthetic)
        XCTAssertEqual(dataset.source, .synthetic(seed: 1))
        XCTAssertEqual(dataset.classNames, SyntheticDataset.classNames)
        XCTAssertEqual(Set(dataset.classNames).count, 10)
        XCTAssertTrue(Set(dataset.classNames).isDisjoint(with: Dataset.classNames), "synthetic classes must not pose as CIFAR-10's")
    }

    /// Images vary within a class (position, size, colour), and no two are the same.
    func testImagesVaryWithinAClass() {
        let set = SyntheticDataset.images(seed: 8, split: 0, count: 400)
        var seen = Set<[UInt8]>()
        for i in 0 ..< set.count { seen.insert(Array(set.image(i))) }
        XCTAssertEqual(seen.count, set.count)
        for shape in 0 ..< 10 {
            let members = (0 ..< set.count).filter { set.label($0) == shape }
            let meanRed = members.map { i in set.image(i).prefix(1024).reduce(0) { $0 + Int($1) } / 1024 }
            XCTAssertGreaterThan(meanRed.max()! - meanRed.min()!, 60, "class \(SyntheticDataset.classNames[shape]) colours vary")
        }
    }

    func testLoadThroughDatasetKeepsSourceAndLimit() throws {
        let dataset = try Dataset.load(.synthetic(seed: 5), trainLimit: 300)
        XCTAssertEqual(dataset.train.count, 300)
        XCTAssertEqual(dataset.test.count, SyntheticDataset.defaultTestCount)
        XCTAssertEqual(dataset.displayName, "SYNTHETIC")
        XCTAssertEqual(DataSource.synthetic(seed: 5).description, "SYNTHETIC (seed 5)")
    }

    /// The brief's promise: conv16-relu-maxpool-conv32-relu-maxpool-conv64-relu-gap-fc10 passes 90% test
    /// accuracy within a few epochs. Trained here with plain SGD and momentum, no augmentation.
    func testSmallCNNLearnsTheShapes() {
        let dataset = SyntheticDataset.generate(seed: 2024)
        let network = SmallCNN(seed: 7)
        let assembler = BatchAssembler()
        let buffer = FloatBuffer()
        var labels = [Int]()
        var random = RandomSource(seed: 11)
        let start = DispatchTime.now().uptimeNanoseconds
        var accuracy = 0.0
        for epoch in 1 ... 4 {
            let order = random.permutation(dataset.train.count)
            var first = 0
            while first + 64 <= order.count {
                let batch = assembler.assemble(dataset.train, indices: order[first ..< first + 64], augmentation: .none,
                                               random: &random, into: buffer, labels: &labels)
                network.trainStep(batch, labels: labels, learningRate: 0.05)
                first += 64
            }
            accuracy = network.accuracy(on: dataset.test, assembler: assembler)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            print("synthetic epoch \(epoch): test accuracy \(String(format: "%.2f", accuracy * 100))% after \(String(format: "%.1f", seconds)) s")
            if accuracy > 0.9 { break }
        }
        XCTAssertGreaterThan(accuracy, 0.9)
    }
}

/// The brief's small network, built from ConvKit's layers, with a softmax cross-entropy loss and SGD.
private final class SmallCNN {
    let layers: [Layer]
    private var velocity: [[Float]]
    private let gradient = FloatBuffer()

    init(seed: UInt64) {
        let image = FeatureShape.cifarImage
        let conv1 = Conv2d(name: "c1", input: image, outChannels: 16, kernel: 3, stride: 1, padding: 1, bias: true)
        let relu1 = Activation(name: "r1", function: .relu, input: conv1.outputShape)
        let pool1 = MaxPool2d(name: "p1", input: relu1.outputShape, kernel: 2, stride: 2)
        let conv2 = Conv2d(name: "c2", input: pool1.outputShape, outChannels: 32, kernel: 3, stride: 1, padding: 1, bias: true)
        let relu2 = Activation(name: "r2", function: .relu, input: conv2.outputShape)
        let pool2 = MaxPool2d(name: "p2", input: relu2.outputShape, kernel: 2, stride: 2)
        let conv3 = Conv2d(name: "c3", input: pool2.outputShape, outChannels: 64, kernel: 3, stride: 1, padding: 1, bias: true)
        let relu3 = Activation(name: "r3", function: .relu, input: conv3.outputShape)
        let gap = GlobalAvgPool(name: "gap", input: relu3.outputShape)
        let fc = Linear(name: "fc", input: gap.outputShape, outFeatures: 10)
        layers = [conv1, relu1, pool1, conv2, relu2, pool2, conv3, relu3, gap, fc]
        conv1.computesInputGradient = false
        // He-normal weights (fan-in), zero biases.
        var random = RandomSource(seed: seed)
        for parameter in layers.flatMap(\.parameters) where parameter.decays {
            let fanIn = Float(parameter.layout.torchShape.dropFirst().reduce(1, *))
            let scale = (2 / fanIn).squareRoot()
            for i in 0 ..< parameter.count { parameter.value.base[i] = random.normal() * scale }
        }
        velocity = layers.flatMap(\.parameters).map { [Float](repeating: 0, count: $0.count) }
    }

    func forward(_ input: Tensor, mode: ForwardMode) -> Tensor {
        layers.reduce(input) { $1.forward($0, mode: mode) }
    }

    func trainStep(_ input: Tensor, labels: [Int], learningRate: Float) {
        let logits = forward(input, mode: .training)
        let classes = logits.shape.count
        let dy = gradient.tensor(batch: logits.batch, shape: logits.shape)
        for n in 0 ..< logits.batch {
            let z = logits.sample(n), g = dy.sample(n)
            var top = z[0]
            for k in 1 ..< classes { top = max(top, z[k]) }
            var sum: Float = 0
            for k in 0 ..< classes { g[k] = exp(z[k] - top); sum += g[k] }
            for k in 0 ..< classes { g[k] = (g[k] / sum - (k == labels[n] ? 1 : 0)) / Float(logits.batch) }
        }
        _ = layers.reversed().reduce(dy) { $1.backward($0) }
        for (p, parameter) in layers.flatMap(\.parameters).enumerated() {
            let values = parameter.value.base, grads = parameter.gradient.base
            velocity[p].withUnsafeMutableBufferPointer { v in
                for i in 0 ..< parameter.count {
                    v[i] = 0.9 * v[i] + grads[i]
                    values[i] -= learningRate * v[i]
                }
            }
        }
    }

    func accuracy(on set: ImageSet, assembler: BatchAssembler) -> Double {
        let buffer = FloatBuffer()
        var labels = [Int]()
        var random = RandomSource(seed: 0)
        var correct = 0
        var first = 0
        while first < set.count {
            let last = min(first + 250, set.count)
            let batch = assembler.assemble(set, indices: first ..< last, augmentation: .none,
                                           random: &random, into: buffer, labels: &labels)
            let logits = forward(batch, mode: .inference)
            for n in 0 ..< batch.batch {
                let z = logits.sample(n)
                let guess = (0 ..< 10).max { z[$0] < z[$1] }!
                if guess == labels[n] { correct += 1 }
            }
            first = last
        }
        return Double(correct) / Double(set.count)
    }
}
