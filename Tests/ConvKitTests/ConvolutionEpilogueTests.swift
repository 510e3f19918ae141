import XCTest
@testable import ConvKit

/// A convolution's epilogue (a residual block's shortcut added, then the ReLU, on each group of images as the
/// backend writes it) gives exactly what the separate passes it replaces give, on every backend: the folded
/// inference of a residual block and its backward pass rely on it.
final class ConvolutionEpilogueTests: XCTestCase {
    func testEveryBackendAddsTheShortcutAndClampsExactlyAsSeparatePassesWould() {
        var random = RandomSource(seed: 11)
        // 16 channels on 12 x 12: every fp32 algorithm takes this shape.
        let shape = ConvolutionShape(input: FeatureShape(channels: 16, height: 12, width: 12), outChannels: 16, kernel: 3, stride: 1, padding: 1)
        let batch = 5  // more images than one group of some backends, and not a multiple of the two workers
        let x = Tensor(batch: batch, shape: shape.input, values: (0..<batch * shape.input.count).map { _ in random.normal() })
        let skip = Tensor(batch: batch, shape: shape.output, values: (0..<batch * shape.output.count).map { _ in random.normal() })
        let weights = (0..<shape.weightCount).map { _ in random.normal() * 0.1 }
        let bias = (0..<shape.output.channels).map { _ in random.normal() * 0.1 }
        for algorithm in [ConvolutionPlan.Algorithm.lowered, .direct, .winograd(.twoByTwo), .winograd(.fourByFour)] {
            let backend = algorithm.makeBackend(shape, path: .active, arithmetic: .fp32)
            func run(_ epilogue: ConvolutionEpilogue) -> [Float] {
                let y = Tensor(zeros: batch, shape.output)
                weights.withUnsafeBufferPointer { w in
                    bias.withUnsafeBufferPointer { b in
                        backend.forward(x, weights: w.baseAddress!, bias: b.baseAddress!, epilogue: epilogue, into: y)
                    }
                }
                return y.array
            }
            let plain = run(.none), sums = zip(plain, skip.array).map { $0 + $1 }
            XCTAssertTrue(plain.contains { $0 < 0 }, "\(algorithm): the clamp has something to clamp")
            XCTAssertEqual(run(ConvolutionEpilogue(rectify: true)), plain.map { max($0, 0) }, "\(algorithm): ReLU")
            XCTAssertEqual(run(ConvolutionEpilogue(residual: skip)), sums, "\(algorithm): shortcut")
            XCTAssertEqual(
                run(ConvolutionEpilogue(residual: skip, rectify: true)), sums.map { max($0, 0) }, "\(algorithm): shortcut and ReLU")
        }
    }

    /// The per-image statistics a backend gathers for a batch norm (`ImageChannelSums`) are exactly those of
    /// the images it wrote, after the shortcut and the clamp, whichever images each group holds: in the
    /// forward pass the following batch norm's sums of squares, in the backward pass the sums against its
    /// input that the batch norm before needs. The batch norms use them instead of reading the tensor again.
    func testEveryBackendGathersTheStatisticsOfWhatItWrote() {
        var random = RandomSource(seed: 13)
        let shape = ConvolutionShape(input: FeatureShape(channels: 16, height: 12, width: 12), outChannels: 16, kernel: 3, stride: 1, padding: 1)
        let batch = 5
        func tensor(_ shape: FeatureShape) -> Tensor {
            Tensor(batch: batch, shape: shape, values: (0..<batch * shape.count).map { _ in random.normal() })
        }
        let x = tensor(shape.input), skip = tensor(shape.output), dy = tensor(shape.output), before = tensor(shape.input)
        let weights = (0..<shape.weightCount).map { _ in random.normal() * 0.1 }
        var backends: [(String, ConvolutionBackend)] = [ConvolutionPlan.Algorithm.lowered, .direct, .winograd(.twoByTwo), .winograd(.fourByFour)]
            .map { ("\($0)", $0.makeBackend(shape, path: .active, arithmetic: .fp32)) }
        if KernelPath.cpuHasBF16 {
            backends.append(("bf16", ConvolutionPlan.Algorithm.direct.makeBackend(shape, path: .avx512, arithmetic: .bf16(emulated: false))))
        }
        /// The totals a batch norm would gather itself from `y` with `request`.
        func ownTotals(_ y: Tensor, _ request: (ImageChannelSums, Int) -> ImageChannelSums.Request) -> [Double] {
            let own = ImageChannelSums(channels: y.shape.channels)
            let totals = own.totals(of: y, for: .forward) { request(own, $0) }
            return totals.first + totals.second
        }
        for (name, backend) in backends {
            for (residual, rectify) in [(nil, false), (skip, true)] as [(Tensor?, Bool)] {
                let y = Tensor(zeros: batch, shape.output), sums = ImageChannelSums(channels: shape.output.channels)
                var epilogue = ConvolutionEpilogue(residual: residual, rectify: rectify)
                epilogue.statistics = sums.request(images: batch)
                weights.withUnsafeBufferPointer { w in
                    backend.forward(x, weights: w.baseAddress!, bias: nil, epilogue: epilogue, into: y)
                }
                sums.markGathered(y, for: .forward)
                let gathered = sums.totals(of: y, for: .forward) { _ in preconditionFailure("\(name): the gathered sums were not used") }
                XCTAssertEqual(gathered.first + gathered.second, ownTotals(y) { $0.request(images: $1) }, "\(name), ReLU \(rectify): forward")
                // They are the sums of the written values (to float rounding), not of something else.
                let values = y.array.map(Double.init), channels = shape.output.channels
                let column = stride(from: 0, to: values.count, by: channels).map { values[$0] }
                XCTAssertEqual(gathered.first[0], column.reduce(0, +), accuracy: 1e-3, "\(name): sum")
                XCTAssertEqual(gathered.second[0], column.map { $0 * $0 }.reduce(0, +), accuracy: 1e-2, "\(name): sum of squares")
            }
            // Backward: the gradient sums of a batch norm before the convolution, against its input.
            let norm = BatchNorm2d(name: "bn", input: shape.input)
            norm.fuse(Activation(name: "relu", function: .relu, input: shape.input))
            _ = norm.forward(before, mode: .training)
            let dx = Tensor(zeros: batch, shape.input)
            var epilogue = ConvolutionEpilogue(residual: skip.shape == shape.input ? skip : nil)
            epilogue.statistics = norm.gradientStatisticsRequest(images: batch)
            var dw = [Float](repeating: 0, count: shape.weightCount)
            weights.withUnsafeBufferPointer { w in
                backend.backward(
                    x, outputGradient: dy, weights: w.baseAddress!, weightGradient: &dw, biasGradient: nil, inputGradient: dx,
                    epilogue: epilogue)
            }
            norm.gradientStatisticsGathered(dx)
            let gathered = norm.backward(dx).array
            norm.gradientStatisticsGathered(nil)
            XCTAssertEqual(gathered, norm.backward(dx).array, "\(name): backward")
        }
    }

    /// The backward pass adds a residual block's shortcut gradient to the input gradient as it writes it
    /// (`ResidualBlock.backward`): exactly the input gradient plus the shortcut's, and the weight and bias
    /// gradients untouched.
    func testEveryBackendAddsTheShortcutGradientToTheInputGradientExactly() {
        var random = RandomSource(seed: 12)
        let shape = ConvolutionShape(input: FeatureShape(channels: 16, height: 12, width: 12), outChannels: 16, kernel: 3, stride: 1, padding: 1)
        let batch = 5
        let x = Tensor(batch: batch, shape: shape.input, values: (0..<batch * shape.input.count).map { _ in random.normal() })
        let dy = Tensor(batch: batch, shape: shape.output, values: (0..<batch * shape.output.count).map { _ in random.normal() })
        let skip = Tensor(batch: batch, shape: shape.input, values: (0..<batch * shape.input.count).map { _ in random.normal() })
        let weights = (0..<shape.weightCount).map { _ in random.normal() * 0.1 }
        for algorithm in [ConvolutionPlan.Algorithm.lowered, .direct, .winograd(.twoByTwo), .winograd(.fourByFour)] {
            let backend = algorithm.makeBackend(shape, path: .active, arithmetic: .fp32)
            func run(adding residual: Tensor?) -> (input: [Float], weight: [Float], bias: [Float]) {
                let dx = Tensor(zeros: batch, shape.input)
                var dw = [Float](repeating: 0, count: shape.weightCount), db = [Float](repeating: 0, count: shape.output.channels)
                weights.withUnsafeBufferPointer { w in
                    backend.backward(
                        x, outputGradient: dy, weights: w.baseAddress!, weightGradient: &dw, biasGradient: &db, inputGradient: dx,
                        epilogue: ConvolutionEpilogue(residual: residual))
                }
                return (dx.array, dw, db)
            }
            let plain = run(adding: nil), added = run(adding: skip)
            XCTAssertEqual(added.input, zip(plain.input, skip.array).map { $0 + $1 }, "\(algorithm): input gradient")
            XCTAssertEqual(added.weight, plain.weight, "\(algorithm): weight gradient")
            XCTAssertEqual(added.bias, plain.bias, "\(algorithm): bias gradient")
        }
    }
}
