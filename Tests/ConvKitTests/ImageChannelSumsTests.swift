import XCTest
@testable import ConvKit

/// A convolution gathers the training statistics of the batch norm after it (`Conv2d.gatherStatistics(for:)`);
/// the batch norm then normalises exactly as if it had gathered them itself, and never with sums of
/// anything but its own input.
final class ImageChannelSumsTests: XCTestCase {
    static let input = FeatureShape(channels: 8, height: 10, width: 10)

    /// A convolution and a batch norm of its output with seeded weights: `linked` gathers through the convolution.
    static func pair(linked: Bool) -> (Conv2d, BatchNorm2d) {
        var random = RandomSource(seed: 5)
        let conv = Conv2d(name: "conv", input: input, outChannels: 16, kernel: 3, stride: 1, padding: 1, bias: false)
        for i in 0..<conv.weight.count { conv.weight.value.base[i] = random.normal() * 0.2 }
        let norm = BatchNorm2d(name: "bn", input: conv.outputShape)
        if linked { conv.gatherStatistics(for: norm) }
        return (conv, norm)
    }

    static func images(seed: UInt64, batch: Int = 3) -> Tensor {
        var random = RandomSource(seed: seed)
        return Tensor(batch: batch, shape: input, values: (0..<batch * input.count).map { _ in random.normal() + 0.5 })
    }

    func testGatheredStatisticsNormaliseExactlyAsTheBatchNormsOwn() {
        let x = Self.images(seed: 1)
        let (conv, norm) = Self.pair(linked: true), (plainConv, plainNorm) = Self.pair(linked: false)
        let y = norm.forward(conv.forward(x, mode: .training), mode: .training).array
        let expected = plainNorm.forward(plainConv.forward(x, mode: .training), mode: .training).array
        XCTAssertEqual(y, expected, "the output")
        XCTAssertEqual(norm.runningMean.array(16), plainNorm.runningMean.array(16), "the running mean")
        XCTAssertEqual(norm.runningVariance.array(16), plainNorm.runningVariance.array(16), "the running variance")
        var random = RandomSource(seed: 2)
        let gradient = Tensor(batch: 3, shape: norm.outputShape, values: (0..<y.count).map { _ in random.normal() })
        XCTAssertEqual(norm.backward(gradient).array, plainNorm.backward(gradient).array, "the input gradient")
        let mean = y.reduce(0, +) / Float(y.count)
        XCTAssertEqual(mean, 0, accuracy: 1e-5, "the output is normalised (the test has something to compare)")
    }

    /// Sums stored for one output are not used for another: not after an inference pass of the convolution,
    /// not for a tensor the convolution did not write, and not twice.
    func testStoredSumsServeOnlyTheOutputTheyWereGatheredFrom() {
        let (conv, norm) = Self.pair(linked: true), (_, plainNorm) = Self.pair(linked: false)
        func normalisedByItself(_ x: Tensor) -> [Float] { plainNorm.forward(x, mode: .training).array }
        // The convolution's training pass stores sums; its inference pass then overwrites its output with
        // other values (another batch), and the batch norm must not normalise them with the stored sums.
        _ = conv.forward(Self.images(seed: 3), mode: .training)
        let other = conv.forward(Self.images(seed: 4), mode: .inference)
        XCTAssertEqual(norm.forward(other, mode: .training).array, normalisedByItself(other), "after an inference pass")
        // A tensor elsewhere, of the same batch.
        _ = conv.forward(Self.images(seed: 5), mode: .training)
        let elsewhere = Tensor(batch: 3, shape: norm.inputShape, values: conv.forward(Self.images(seed: 6), mode: .inference).array)
        XCTAssertEqual(norm.forward(elsewhere, mode: .training).array, normalisedByItself(elsewhere), "another tensor")
        // The same output, changed after the sums were used once.
        let y = conv.forward(Self.images(seed: 7), mode: .training)
        _ = norm.forward(y, mode: .training)
        for i in 0..<y.count { y.pointer[i] *= 3 }
        XCTAssertEqual(norm.forward(y, mode: .training).array, normalisedByItself(y), "the sums used twice")
    }

    /// A batch norm with seeded parameters and the ReLU it applies, and after it a convolution or a max pool
    /// (the layers whose backward passes gather a batch norm's sums); with `linked` the layer after gathers.
    static func stack(linked: Bool, pooled: Bool) -> (BatchNorm2d, Layer) {
        var random = RandomSource(seed: 8)
        let norm = BatchNorm2d(name: "bn", input: input)
        for p in norm.parameters { for i in 0..<p.count { p.value.base[i] = random.uniform(0.5, 1.5) } }
        norm.fuse(Activation(name: "relu", function: .relu, input: input))
        let after: Layer & GathersBatchNormGradientSums
        if pooled {
            after = MaxPool2d(name: "pool", input: input, kernel: 2, stride: 2)
        } else {
            let conv = Conv2d(name: "conv", input: input, outChannels: 16, kernel: 3, stride: 1, padding: 1, bias: false)
            for i in 0..<conv.weight.count { conv.weight.value.base[i] = random.normal() * 0.2 }
            after = conv
        }
        if linked { after.gatherGradientStatistics(for: norm) }
        return (norm, after)
    }

    /// The gradients of the batch norm (input, weight, bias) with the sums the layer after it gathered are
    /// exactly those with its own; and sums gathered before another forward pass are not used after it.
    func testGatheredGradientSumsGiveTheBatchNormsOwnGradients() {
        for pooled in [false, true] {
            func gradients(linked: Bool, forwardAgain: Bool) -> [[Float]] {
                let (norm, after) = Self.stack(linked: linked, pooled: pooled)
                let y = after.forward(norm.forward(Self.images(seed: 10), mode: .training), mode: .training)
                var random = RandomSource(seed: 9)
                let gradient = Tensor(batch: y.batch, shape: y.shape, values: (0..<y.count).map { _ in random.normal() })
                let dy = after.backward(gradient)
                if forwardAgain { _ = norm.forward(Self.images(seed: 11), mode: .training) }
                let dx = norm.backward(dy).array
                return [dx, Array(norm.weight.gradients), Array(norm.bias.gradients)]
            }
            let layer = pooled ? "max pool" : "convolution"
            XCTAssertEqual(gradients(linked: true, forwardAgain: false), gradients(linked: false, forwardAgain: false), "gathered by the \(layer)")
            XCTAssertEqual(
                gradients(linked: true, forwardAgain: true), gradients(linked: false, forwardAgain: true), "\(layer), after another forward pass")
        }
    }

    /// The presets link every batch norm they can: its input sums to the convolution before it, its
    /// gradient sums to the convolution, max pool or residual block after it and its ReLU (a residual block's
    /// last batch norms are served by the block's own gradient pass). Which layers gather changes no
    /// number, so only this shows that the links are made.
    func testThePresetsLinkTheirBatchNorms() throws {
        for (preset, gradientLinks) in [("simple", 4), ("resnet20", 1 + 9)] {
            let network = try Network(preset)
            var layers: [Layer] = []
            for layer in network.layers { layers += (layer as? ResidualBlock).map { [$0] + $0.sublayers } ?? [layer] }
            let norms = layers.compactMap { $0 as? BatchNorm2d }
            let inputGatherers = layers.compactMap { ($0 as? Conv2d)?.statisticsTarget }
            XCTAssertEqual(inputGatherers.count, norms.count, "\(preset): every batch norm's input sums are gathered")
            XCTAssertEqual(Set(inputGatherers.map(ObjectIdentifier.init)), Set(norms.map(ObjectIdentifier.init)), preset)
            let gradientGatherers = layers.compactMap { ($0 as? Conv2d)?.gradientStatisticsTarget ?? ($0 as? MaxPool2d)?.gradientStatisticsTarget }
            XCTAssertEqual(gradientGatherers.count, gradientLinks, "\(preset): batch norms whose gradient sums are gathered")
        }
    }
}
