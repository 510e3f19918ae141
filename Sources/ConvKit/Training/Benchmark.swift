import Foundation

/// Measures training and inference throughput of a model on random CIFAR-shaped data, the way
/// `../shared/bench/torch_reference.py` measures PyTorch: SGD-momentum steps at batch 128 and
/// inference at batch 256, after a warm-up, median of several timed repeats.
public struct Benchmark: Sendable {
    /// The measured rates.
    public struct Result: Sendable {
        public var model: String
        public var threads: Int
        public var trainImagesPerSecond: Double
        public var inferImagesPerSecond: Double
        public var blasCore: String
    }

    /// The training batch of `../shared/bench/torch_reference.py`, which `--compare` must match.
    public static let referenceTrainBatch = 128

    public var trainBatch = Benchmark.referenceTrainBatch
    public var inferBatch = 256
    public var iterations = 20
    public var warmup = 3
    public var repeats = 3
    /// How the convolution and fully connected layers multiply (`--precision`).
    public var arithmetic = MatrixArithmetic.fp32

    public init() {}

    public func run(model: String) throws(ModelSpecError) -> Result {
        let network = try Network(model)
        network.arithmetic = arithmetic
        var random = RandomSource(seed: 0)
        Initializer.he.initialize(network, random: &random)
        let optimizer = Optimizer(Optimizer.Settings(nesterov: false, weightDecay: 0), parameters: network.parameters)
        let loss = CrossEntropyLoss()
        let inputs = (0..<4).map { _ in Benchmark.randomBatch(trainBatch, &random) }
        let labels = (0..<4).map { _ in (0..<trainBatch).map { _ in random.below(10) } }
        let gradient = Tensor(zeros: trainBatch, FeatureShape(features: network.classCount))
        let train = rate(batch: trainBatch) { i in
            let logits = network.forward(inputs[i % 4], mode: .training)
            loss.evaluate(logits: logits, labels: labels[i % 4], gradient: gradient)
            network.backward(gradient)
            optimizer.step(rate: 0.01)
        }
        let infer = inferenceRate { network.infer($0) }
        return Result(
            model: model, threads: Parallel.workerCount, trainImagesPerSecond: train, inferImagesPerSecond: infer,
            blasCore: BLAS.coreName)
    }

    /// Milliseconds per training step spent in each top-level layer's forward and backward pass: the
    /// fastest of `steps` steps, which shrugs off other programs competing for the cores.
    public func profile(model: String, steps: Int = 10) throws(ModelSpecError) -> [(layer: String, forward: Double, backward: Double)] {
        let network = try Network(model)
        network.arithmetic = arithmetic
        var random = RandomSource(seed: 0)
        Initializer.he.initialize(network, random: &random)
        let input = Benchmark.randomBatch(trainBatch, &random)
        let labels = (0..<trainBatch).map { _ in random.below(10) }
        let gradient = Tensor(zeros: trainBatch, FeatureShape(features: network.classCount))
        var forward = [Double](repeating: .infinity, count: network.layers.count), backward = forward
        func now() -> Double { Stopwatch.now * 1e3 }
        for step in 0..<(steps + warmup) {
            var x = input
            for (i, layer) in network.layers.enumerated() {
                let start = now()
                x = layer.forward(x, mode: .training)
                if step >= warmup { forward[i] = min(forward[i], now() - start) }
            }
            CrossEntropyLoss().evaluate(logits: x, labels: labels, gradient: gradient)
            var g = gradient
            for (i, layer) in network.layers.enumerated().reversed() {
                let start = now()
                g = layer.backward(g)
                if step >= warmup { backward[i] = min(backward[i], now() - start) }
            }
        }
        return network.layers.enumerated().map { ($0.element.name, forward[$0.offset], backward[$0.offset]) }
    }

    /// Inference images/s of any classifier at `inferBatch` on random images.
    public func inferenceRate(_ forward: (Tensor) -> Tensor) -> Double {
        var random = RandomSource(seed: 1)
        let input = Benchmark.randomBatch(inferBatch, &random)
        return rate(batch: inferBatch) { _ in _ = forward(input) }
    }

    private func rate(batch: Int, _ step: (Int) -> Void) -> Double {
        for i in 0..<warmup { step(i) }
        var rates: [Double] = []
        for _ in 0..<repeats {
            let stopwatch = Stopwatch()
            for i in 0..<iterations { step(i) }
            let seconds = stopwatch.seconds
            rates.append(Double(batch * iterations) / seconds)
        }
        return rates.sorted()[rates.count / 2]
    }

    private static func randomBatch(_ batch: Int, _ random: inout RandomSource) -> Tensor {
        let x = Tensor(zeros: batch, .cifarImage)
        for i in 0..<x.count { x.pointer[i] = random.normal() }
        return x
    }
}
