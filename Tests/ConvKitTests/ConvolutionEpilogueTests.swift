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

    /// The per-image statistics a backend gathers for the following batch norm (`ImageChannelSums`) are
    /// exactly those of the images it wrote, after the shortcut and the clamp, whichever images each group
    /// holds: the batch norm normalises with them instead of reading its input once more.
    func testEveryBackendGathersTheStatisticsOfWhatItWrote() {
        var random = RandomSource(seed: 13)
        let shape = ConvolutionShape(input: FeatureShape(channels: 16, height: 12, width: 12), outChannels: 16, kernel: 3, stride: 1, padding: 1)
        let batch = 5
        let x = Tensor(batch: batch, shape: shape.input, values: (0..<batch * shape.input.count).map { _ in random.normal() })
        let skip = Tensor(batch: batch, shape: shape.output, values: (0..<batch * shape.output.count).map { _ in random.normal() })
        let weights = (0..<shape.weightCount).map { _ in random.normal() * 0.1 }
        var backends: [(String, ConvolutionBackend)] = [ConvolutionPlan.Algorithm.lowered, .direct, .winograd(.twoByTwo), .winograd(.fourByFour)]
            .map { ("\($0)", $0.makeBackend(shape, path: .active, arithmetic: .fp32)) }
        if KernelPath.cpuHasBF16 {
            backends.append(("bf16", ConvolutionPlan.Algorithm.direct.makeBackend(shape, path: .avx512, arithmetic: .bf16(emulated: false))))
        }
        let channels = shape.output.channels
        for (name, backend) in backends {
            for (residual, rectify) in [(nil, false), (skip, true)] as [(Tensor?, Bool)] {
                let y = Tensor(zeros: batch, shape.output)
                var gathered = [Double](repeating: .nan, count: batch * 2 * channels)
                gathered.withUnsafeMutableBufferPointer { sums in
                    weights.withUnsafeBufferPointer { w in
                        var epilogue = ConvolutionEpilogue(residual: residual, rectify: rectify)
                        epilogue.statistics = sums.baseAddress
                        backend.forward(x, weights: w.baseAddress!, bias: nil, epilogue: epilogue, into: y)
                    }
                }
                var expected = [Double](repeating: 0, count: batch * 2 * channels)
                expected.withUnsafeMutableBufferPointer { sums in
                    for image in 0..<batch { ImageChannelSums.gather(y, image: image, into: sums.baseAddress!) }
                }
                XCTAssertEqual(gathered, expected, "\(name), shortcut and ReLU \(rectify): the statistics gathered")
                // And they are the sums of the written values (to float rounding), not of something else.
                let values = y.array
                for image in [0, batch - 1] {
                    for ch in [0, channels - 1] {
                        let column = (0..<shape.output.spatialCount).map { Double(values[(image * shape.output.spatialCount + $0) * channels + ch]) }
                        XCTAssertEqual(gathered[image * 2 * channels + ch], column.reduce(0, +), accuracy: 1e-4, "\(name): sum")
                        XCTAssertEqual(
                            gathered[image * 2 * channels + channels + ch], column.map { $0 * $0 }.reduce(0, +), accuracy: 1e-3,
                            "\(name): sum of squares")
                    }
                }
            }
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
                        adding: residual)
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
