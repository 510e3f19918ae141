import XCTest
import ConvKit

/// Fused layers compute what the layers they replace compute: `Network.infer` (batch norm folded into
/// convolutions, ReLU applied as they write) gives the scores of the layer-by-layer inference pass that
/// `eval`, `predict` and the benchmark rely on, and a ReLU that its batch norm applies in training
/// gives the gradients of a separate one.
final class LayerFusionTests: XCTestCase {
    /// A network with He weights, batch-norm scales and shifts far from 1 and 0, and running statistics
    /// moved by a few training passes, so that a wrong fold cannot hide behind identity statistics.
    private func trainedLookingNetwork(_ spec: String, seed: UInt64 = 3) throws -> Network {
        let network = try Network(spec)
        var random = RandomSource(seed: seed)
        Initializer.he.initialize(network, random: &random)
        for layer in network.allLayers {
            guard let batchNorm = layer as? BatchNorm2d else { continue }
            for c in 0..<batchNorm.weight.count {
                batchNorm.weight.value.base[c] = random.uniform(0.5, 2)
                batchNorm.bias.value.base[c] = random.uniform(-0.5, 0.5)
            }
        }
        for _ in 0..<3 { network.forward(randomImages(6, &random, offset: 0.3), mode: .training) }
        return network
    }

    private func randomImages(_ count: Int, _ random: inout RandomSource, offset: Float = 0) -> Tensor {
        let x = Tensor(zeros: count, .cifarImage)
        for i in 0..<x.count { x.pointer[i] = random.normal() + offset }
        return x
    }

    private func assertFoldedInferenceMatches(_ spec: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let network = try trainedLookingNetwork(spec)
        var random = RandomSource(seed: 9)
        let images = randomImages(5, &random)
        let reference = network.forward(images, mode: .inference).array
        let folded = network.infer(images).array
        let scale = max(reference.map(abs).max() ?? 0, 1)
        let worst = zip(reference, folded).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThan(worst / scale, 2e-5, "\(spec): folded inference differs from the layer-by-layer pass", file: file, line: line)
        // The layer-by-layer pass still works after a folded one has reused the buffers.
        XCTAssertEqual(network.forward(images, mode: .inference).array, reference, "\(spec): forward after infer", file: file, line: line)
    }

    func testPresetsGiveTheSameScores() throws {
        for preset in ["tiny", "simple", "resnet20", "vgg"] { try assertFoldedInferenceMatches(preset) }
    }

    /// Every convolution path (Winograd at 32+ channels, the direct kernel, 1x1 and im2col layers with
    /// odd channel counts, strides), with and without a batch norm or ReLU after it.
    func testEveryConvolutionPathAndLayerPattern() throws {
        for spec in [
            "conv32,bn,relu,conv32,bn,relu,conv40k3s2,relu,gap,fc10",
            "conv8,bn,leakyrelu,conv5k5,bn,conv7k1,relu,maxpool,conv16k1s2,bn,relu,gap,fc10",
            "conv12,bn,relu,res16s2,res16,res24s2,bn,relu,gap,fc10",
            "conv16,relu,dropout0.3,conv16,bn,elu,avgpool,flatten,fc32,relu,fc10",
        ] {
            try assertFoldedInferenceMatches(spec)
        }
    }

    /// `leakyrelu0` is ReLU as a function but is never fused, so it is the layer-by-layer reference.
    func testAReLUFusedIntoItsBatchNormTrainsLikeASeparateOne() throws {
        let fused = try trainedLookingNetwork("conv8,bn,relu,conv16s2,bn,relu,res16,gap,fc10")
        let separate = try Network("conv8,bn,leakyrelu0,conv16s2,bn,leakyrelu0,res16,gap,fc10")
        for (mine, theirs) in zip(separate.stateTensors, fused.stateTensors) {
            if case let (.float(a, layout), .float(b, _)) = (mine.content, theirs.content) { a.base.update(from: b.base, count: layout.count) }
        }
        var random = RandomSource(seed: 11)
        let images = randomImages(8, &random)
        let labels = (0..<8).map { _ in random.below(10) }
        var gradients: [[Float]] = [], losses: [Float] = []
        for network in [fused, separate] {
            let logits = network.forward(images, mode: .training)
            let gradient = Tensor(zeros: 8, FeatureShape(features: 10))
            losses.append(CrossEntropyLoss().evaluate(logits: logits, labels: labels, gradient: gradient).loss)
            network.backward(gradient)
            gradients.append(network.parameters.flatMap { Array($0.gradients) })
        }
        XCTAssertGreaterThanOrEqual(
            fused.layer(named: "bn1")?.lastOutput?.array.min() ?? -1, 0, "in training the batch norm applies the ReLU itself")
        XCTAssertEqual(losses[0], losses[1], accuracy: 1e-6)
        let scale = gradients[1].map(abs).max() ?? 1
        let worst = zip(gradients[0], gradients[1]).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThan(worst / scale, 1e-5, "parameter gradients of the fused network differ")
        XCTAssertGreaterThan(scale, 0)
    }
}
