import XCTest
@testable import ConvKit

/// Shared buffers (`BufferSharing`) change where a training step keeps its values, never the values: a
/// run with them and the same run with every layer keeping its own buffers (as the engine did before)
/// must agree bit for bit, step by step.
final class BufferSharingTests: XCTestCase {
    /// The `airbench` recipe (the run whose peak memory the sharing cut, issue 25) on synthetic images:
    /// the same seed gives the same loss at every step, the same test evaluation (with its test-time
    /// augmentation, through `infer`) and the same weights and optimiser state, with and without sharing.
    func testTheAirbenchRecipeTrainsExactlyAsWithoutSharedBuffers() throws {
        let dataset = SyntheticDataset.generate(seed: 11, trainCount: 192, testCount: 96)
        func run(sharing: Bool) throws -> (losses: [Float], testLoss: Float?, state: [[Float]], trainer: Trainer) {
            let config = TrainingConfig.airbench(epochs: 2, batchSize: 48, seed: 4)
            let trainer = try Trainer(config: config, dataset: dataset)
            trainer.network.sharesBuffers = sharing
            while !trainer.isFinished { trainer.step() }
            let state = trainer.network.stateTensors.compactMap { tensor -> [Float]? in
                guard case let .float(buffer, layout) = tensor.content else { return nil }
                return buffer.array(layout.count)
            }
            return (trainer.history.steps.map(\.loss), trainer.lastEvaluation?.loss, state, trainer)
        }
        let reference = try run(sharing: false), shared = try run(sharing: true)
        XCTAssertEqual(reference.losses.count, 8)
        XCTAssertEqual(shared.losses, reference.losses, "the loss trajectory")
        XCTAssertEqual(shared.testLoss, reference.testLoss, "the test evaluation")
        XCTAssertEqual(shared.state, reference.state, "the weights and running statistics")
        XCTAssertEqual(shared.trainer.network.sharedBufferBytes > 0, true, "the shared run lent buffers")
        XCTAssertEqual(reference.trainer.network.sharedBufferBytes, 0, "the reference run kept its own")
        // Not vacuous: the airbench net has outputs of both kinds that are not kept.
        let roles = shared.trainer.network.outputRoles
        XCTAssertTrue(roles.contains(.transient), "\(roles)")
        XCTAssertTrue(roles.contains(.recomputed), "\(roles)")
    }

    /// Every kind of layer and activation beside the others (fused batch norm + ReLU, residual blocks,
    /// ELU and sigmoid that read their outputs, dropout, average pooling, GELU and swish that are
    /// recomputed): a few SGD steps give the same losses and the same gradients with and without sharing,
    /// and a later backward pass with a tap (Grad-CAM's) or to the input (saliency's) still works.
    func testEveryLayerKindGivesTheSameGradientsWithSharedBuffers() throws {
        let specs = [
            "simple", "quick", "conv8,bn,relu,res8,res16s2,gap,fc10",
            "conv8,elu,conv8,maxpool,bn,sigmoid,conv8,swish,avgpool,conv8,bn,gelu,dropout0.2,conv8,tanh,maxpool,flatten,fc10",
            "conv8,leakyrelu,conv8,bn,selu,conv16,maxpool,bn,gelu,gap,fc10",
        ]
        for spec in specs {
            func run(sharing: Bool) throws -> (losses: [Float], gradients: [[Float]], logits: [Float]) {
                let network = try Network(spec)
                network.sharesBuffers = sharing
                var random = RandomSource(seed: 3)
                Initializer.he.initialize(network, random: &random)
                let optimizer = Optimizer(Optimizer.Settings(), parameters: network.parameters)
                let loss = CrossEntropyLoss()
                var losses: [Float] = []
                var gradients: [[Float]] = []
                for step in 0..<3 {
                    for (index, layer) in network.allLayers.enumerated() {
                        (layer as? Dropout)?.random = RandomSource(seed: UInt64(index), stream: UInt64(step))
                    }
                    let x = randomImages(6, &random)
                    let labels = (0..<6).map { _ in random.below(10) }
                    let gradient = Tensor(zeros: 6, FeatureShape(features: 10))
                    let logits = network.forward(x, mode: .training)
                    losses.append(loss.evaluate(logits: logits, labels: labels, gradient: gradient).loss)
                    network.backward(gradient)
                    gradients.append(contentsOf: network.parameters.map { $0.gradient.array($0.count) })
                    optimizer.step(rate: 0.05)
                }
                let x = randomImages(4, &random)
                var logits = network.infer(x).array
                // A tapped backward pass after inference (Grad-CAM's): the tap sees every layer's gradient
                // (and a block's sublayers').
                network.forward(x, mode: .inference)
                var tapped: [Tensor] = []
                network.backward(Tensor(zeros: 4, FeatureShape(features: 10))) { _, g in tapped.append(g) }
                XCTAssertGreaterThanOrEqual(tapped.count, network.layers.count, spec)
                logits += network.forward(x, mode: .training).array
                return (losses, gradients, logits)
            }
            let reference = try run(sharing: false), shared = try run(sharing: true)
            XCTAssertEqual(shared.losses, reference.losses, spec)
            XCTAssertEqual(shared.gradients, reference.gradients, spec)
            XCTAssertEqual(shared.logits, reference.logits, spec)
        }
    }

    private func randomImages(_ batch: Int, _ random: inout RandomSource) -> Tensor {
        Tensor(batch: batch, shape: .cifarImage, values: (0..<batch * FeatureShape.cifarImage.count).map { _ in random.uniform(-1, 1) })
    }
}
