import TestSupport
import XCTest
@testable import ConvKit

/// Batch norm's loops (Sources/CKernels/batchnorm.c) compute the same numbers on every kernel path, bit for
/// bit, and the numbers of its definition: a run never depends on which vector unit the CPU has.
final class BatchNormPathTests: XCTestCase {
    /// Channel counts that take every block of the kernels: 16 (the residual nets'), 24 (a 16 block and a
    /// tail), 85 (a 64 block, a 16 block and a tail); 5 x 7 x 9 = 315 rows cross a 256-row block.
    static let channelCounts = [16, 24, 85]
    static let batch = 5, height = 7, width = 9

    struct Results: Equatable {
        var training: [Float], rectified: [Float], withSkip: [Float], inference: [Float]
        var inputGradient: [Float], rectifiedInputGradient: [Float], skipInputGradient: [Float]
        var weightGradient: [Float], biasGradient: [Float], runningMean: [Float], runningVariance: [Float]
    }

    /// Every pass of a batch norm of `channels` channels on seeded data, on `path`.
    static func run(channels: Int, on path: KernelPath) throws -> Results {
        var results: Results?
        try ConvolutionPlanTests.on(path) {
            let shape = FeatureShape(channels: channels, height: height, width: width)
            var random = RandomSource(seed: UInt64(7 + channels))
            func tensor() -> Tensor {
                let t = Tensor(zeros: batch, shape)
                for i in 0..<t.count { t.pointer[i] = random.uniform(-2, 3) }
                return t
            }
            let x = tensor(), skip = tensor(), dy = tensor()
            func layer() -> BatchNorm2d {
                var seeded = RandomSource(seed: 99)
                let norm = BatchNorm2d(name: "bn", input: shape)
                for p in norm.parameters { for i in 0..<p.count { p.value.base[i] = seeded.uniform(0.5, 1.5) } }
                return norm
            }
            let plain = layer()
            let training = plain.forward(x, mode: .training).array
            let inputGradient = plain.backward(dy).array
            let rectifying = layer()
            rectifying.fuse(Activation(name: "relu", function: .relu, input: shape))
            let rectified = rectifying.forward(x, mode: .training).array
            let rectifiedInputGradient = rectifying.backward(dy).array
            let summing = layer()
            let withSkip = summing.trainAddingRectified(x, skip: skip, into: FloatBuffer()).array
            let skipInputGradient = summing.backward(dy).array
            let inference = plain.forward(x, mode: .inference).array
            results = Results(
                training: training, rectified: rectified, withSkip: withSkip, inference: inference,
                inputGradient: inputGradient, rectifiedInputGradient: rectifiedInputGradient,
                skipInputGradient: skipInputGradient, weightGradient: Array(plain.weight.gradients),
                biasGradient: Array(plain.bias.gradients), runningMean: plain.runningMean.array(channels),
                runningVariance: plain.runningVariance.array(channels))
        }
        return try XCTUnwrap(results)
    }

    func testEveryPathComputesTheSameBitsAsThePortableOne() throws {
        let others = KernelPath.supported.filter { $0 != .portable }
        try skipUnless(!others.isEmpty, .cpuLacksKernelPath, "this CPU runs only the portable kernel path; nothing to compare it with")
        for channels in Self.channelCounts {
            let portable = try Self.run(channels: channels, on: .portable)
            for path in others {
                XCTAssertTrue(try Self.run(channels: channels, on: path) == portable, "\(channels) channels: \(path) differs from portable")
            }
        }
    }

    /// The definition in double precision (biased batch variance, PyTorch's running estimates): the
    /// kernels agree with it to float rounding.
    func testTheNumbersAreTheDefinitions() throws {
        for channels in Self.channelCounts {
            let ours = try Self.run(channels: channels, on: KernelPath.active)
            let rows = Self.batch * Self.height * Self.width
            var random = RandomSource(seed: UInt64(7 + channels))
            let x = (0..<(rows * channels)).map { _ in Double(random.uniform(-2, 3)) }
            let skip = (0..<(rows * channels)).map { _ in Double(random.uniform(-2, 3)) }
            let dy = (0..<(rows * channels)).map { _ in Double(random.uniform(-2, 3)) }
            var seeded = RandomSource(seed: 99)
            let weight = (0..<channels).map { _ in Double(seeded.uniform(0.5, 1.5)) }
            let bias = (0..<channels).map { _ in Double(seeded.uniform(0.5, 1.5)) }
            for ch in 0..<channels {
                let column = (0..<rows).map { x[$0 * channels + ch] }, g = (0..<rows).map { dy[$0 * channels + ch] }
                let mean = column.reduce(0, +) / Double(rows)
                let variance = column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(rows)
                let inverseStd = 1 / (variance + 1e-5).squareRoot()
                let xhat = column.map { ($0 - mean) * inverseStd }
                let y = xhat.map { $0 * weight[ch] + bias[ch] }
                let meanG = g.reduce(0, +) / Double(rows)
                let meanGXhat = zip(g, xhat).map { $0 * $1 }.reduce(0, +) / Double(rows)
                for r in 0..<rows {
                    let i = r * channels + ch
                    XCTAssertEqual(Double(ours.training[i]), y[r], accuracy: 1e-5, "\(channels) channels: output")
                    XCTAssertEqual(Double(ours.rectified[i]), max(y[r], 0), accuracy: 1e-5, "\(channels) channels: rectified")
                    XCTAssertEqual(Double(ours.withSkip[i]), max(y[r] + skip[i], 0), accuracy: 1e-5, "\(channels) channels: with skip")
                    let dx = weight[ch] * inverseStd * (g[r] - meanG - xhat[r] * meanGXhat)
                    XCTAssertEqual(Double(ours.inputGradient[i]), dx, accuracy: 1e-4, "\(channels) channels: input gradient")
                }
                XCTAssertEqual(Double(ours.biasGradient[ch]), g.reduce(0, +), accuracy: 1e-3)
                XCTAssertEqual(Double(ours.weightGradient[ch]), zip(g, xhat).map { $0 * $1 }.reduce(0, +), accuracy: 1e-3)
                XCTAssertEqual(Double(ours.runningMean[ch]), 0.1 * mean, accuracy: 1e-6)
                XCTAssertEqual(Double(ours.runningVariance[ch]), 0.9 + 0.1 * variance * Double(rows) / Double(rows - 1), accuracy: 1e-5)
            }
        }
    }
}
