import CKernels
import TestSupport
import XCTest
@testable import ConvKit

/// A convolution that applies the batch norm before it (and its ReLU) as it reads its input
/// (`ConvolutionPrologue`) computes exactly what it computes from the batch norm's written map, in both passes
/// and on every kernel path this CPU runs: a residual block's training pass relies on it to skip writing the map.
final class ConvolutionPrologueTests: XCTestCase {
    private let batch = 5  // more images than one group, and not a multiple of the two workers

    /// Equal bit for bit, where NaN equals NaN.
    private func assertSameBits(_ a: [Float], _ b: [Float], _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, message, file: file, line: line)
        let differing = zip(a, b).filter { $0.bitPattern != $1.bitPattern && !($0.isNaN && $1.isNaN) }.count
        XCTAssertEqual(differing, 0, "\(message): \(differing) of \(a.count) values differ", file: file, line: line)
    }

    func testTheWinogradTransformsReadThroughTheBatchNormExactlyAsFromItsMap() {
        var random = RandomSource(seed: 31)
        // 24 channels: one and a half AVX-512 vectors, so the masked end of a row of channels is read too.
        let shape = ConvolutionShape(input: FeatureShape(channels: 24, height: 11, width: 13), outChannels: 16, kernel: 3, stride: 1, padding: 1)
        let c = shape.input.channels
        var values = (0..<batch * shape.input.count).map { _ in random.normal() }
        values[7 * c + 3] = .nan  // a NaN the ReLU must keep, as the batch norm's does (a plain max would not)
        values[9 * c + 5] = -0.0
        let x = Tensor(batch: batch, shape: shape.input, values: values)
        let scale = (0..<c).map { _ in random.normal() }, shift = (0..<c).map { _ in random.normal() }
        let dy = Tensor(batch: batch, shape: shape.output, values: (0..<batch * shape.output.count).map { _ in random.normal() })
        let weights = (0..<shape.weightCount).map { _ in random.normal() * 0.1 }
        for path in KernelPath.supported {
            for tile in [WinogradTile.twoByTwo, .fourByFour] {
                for rectify in [false, true] {
                    let name = "\(path), \(tile), ReLU \(rectify)"
                    // The map the batch norm would write, by its own kernel.
                    let mapped = Tensor(zeros: batch, shape.input)
                    ckernels_bn_apply(x.pointer, nil, scale, shift, rectify ? 1 : 0, batch * shape.input.spatialCount, Int32(c), mapped.pointer)
                    let backend = WinogradConvolution(shape, tile: tile, kernels: ConvolutionKernels(path: path))
                    func run(_ input: Tensor, _ prologue: ConvolutionPrologue?) -> (y: [Float], dw: [Float], dx: [Float]) {
                        let y = Tensor(zeros: batch, shape.output), dx = Tensor(zeros: batch, shape.input)
                        var dw = [Float](repeating: 0, count: shape.weightCount)
                        weights.withUnsafeBufferPointer { w in
                            backend.forward(input, prologue: prologue, weights: w.baseAddress!, bias: nil, epilogue: .none, into: y)
                            backend.backward(
                                input, prologue: prologue, outputGradient: dy, weights: w.baseAddress!, weightGradient: &dw,
                                biasGradient: nil, inputGradient: dx, epilogue: .none)
                        }
                        return (y.array, dw, dx.array)
                    }
                    let written = run(mapped, nil)
                    let read = scale.withUnsafeBufferPointer { s in
                        shift.withUnsafeBufferPointer { t in
                            run(x, ConvolutionPrologue(scale: s.baseAddress!, shift: t.baseAddress!, rectify: rectify))
                        }
                    }
                    XCTAssertTrue(written.y.contains { $0.isNaN } && written.y.contains { !$0.isNaN }, "\(name): the NaN reaches some outputs")
                    assertSameBits(read.y, written.y, "\(name): output")
                    assertSameBits(read.dw, written.dw, "\(name): weight gradient")
                    assertSameBits(read.dx, written.dx, "\(name): input gradient")
                    // The prologue is not a no-op: reading the unmapped input gives other numbers.
                    XCTAssertNotEqual(run(x, nil).y.filter { !$0.isNaN }, written.y.filter { !$0.isNaN }, name)
                }
            }
        }
    }

    /// A batch norm that leaves its map to the convolution after it takes the same statistics, and the
    /// pair's output and every gradient are those of the batch norm writing its map: the training pass of a
    /// residual block's `bn1 -> relu1 -> conv2`.
    func testABatchNormLeftToTheConvolutionTrainsAsOneThatWritesItsMap() throws {
        let input = FeatureShape(channels: 16, height: 16, width: 16)
        func pair() -> (BatchNorm2d, Activation, Conv2d) {
            let norm = BatchNorm2d(name: "bn", input: input), relu = Activation(name: "relu", function: .relu, input: input)
            norm.fuse(relu)
            let conv = Conv2d(name: "conv", input: input, outChannels: 16, kernel: 3, stride: 1, padding: 1, bias: false)
            return (norm, relu, conv)
        }
        let (norm, relu, conv) = pair(), (leaving, leftRelu, reading) = pair()
        try skipUnless(
            reading.appliesPrologue, .cpuLacksKernelPath,
            "the \(reading.plan.path) path convolves this layer with \(reading.plan.forward), which applies no prologue")
        var random = RandomSource(seed: 32)
        for parameter in conv.parameters + norm.parameters {
            for i in 0..<parameter.count { parameter.value.base[i] = random.normal() * 0.3 + (parameter.name.hasSuffix("bn.weight") ? 1 : 0) }
        }
        for (mine, theirs) in zip(reading.parameters + leaving.parameters, conv.parameters + norm.parameters) {
            mine.value.base.update(from: theirs.value.base, count: theirs.count)
        }
        let x = Tensor(batch: batch, shape: input, values: (0..<batch * input.count).map { _ in random.normal() * 2 + 0.5 })
        let dy = Tensor(batch: batch, shape: conv.outputShape, values: (0..<batch * conv.outputShape.count).map { _ in random.normal() })

        let written = conv.forward(relu.forward(norm.forward(x, mode: .training), mode: .training), mode: .training).array
        let writtenDx = norm.backward(relu.backward(conv.backward(dy))).array

        let read = reading.train(x, through: leaving.trainLeavingOutput(x)).array
        leftRelu.passThroughUnwritten()
        XCTAssertNil(leaving.lastOutput, "the batch norm's map is not written")
        let readDx = leaving.backward(leftRelu.backward(reading.backward(dy))).array

        assertSameBits(read, written, "output")
        assertSameBits(readDx, writtenDx, "input gradient")
        for (mine, theirs) in zip(reading.parameters + leaving.parameters, conv.parameters + norm.parameters) {
            assertSameBits(mine.gradient.array(mine.count), theirs.gradient.array(theirs.count), mine.name)
        }
        assertSameBits(leaving.runningMean.array(16), norm.runningMean.array(16), "running mean")
        assertSameBits(leaving.runningVariance.array(16), norm.runningVariance.array(16), "running variance")
    }

    /// Whole networks train exactly as when every batch norm writes its map (`Network.normalisesOnRead` off):
    /// the same losses, gradients and running statistics step by step, with shared buffers and without, for
    /// plain stacks (`bn, relu, conv` and `bn, conv`), residual blocks, and a batch norm whose input the
    /// network would not keep (after a GELU), where the convolution must not read through it.
    func testNetworksTrainExactlyAsWhenEveryBatchNormWritesItsMap() throws {
        let specs = [
            "simple", "conv16,bn,relu,res16,res32s2,gap,fc10", "conv16,bn,conv16,bn,relu,maxpool,conv16,gap,fc10",
            "conv16,gelu,bn,relu,conv16,bn,relu,conv16,gap,fc10",
        ]
        var readThrough = 0
        for spec in specs {
            for sharing in [true, false] {
                func run(normalisingOnRead: Bool) throws -> (losses: [Float], state: [[Float]], unwritten: Int) {
                    let network = try Network(spec)
                    network.sharesBuffers = sharing
                    network.normalisesOnRead = normalisingOnRead
                    var random = RandomSource(seed: 5)
                    Initializer.he.initialize(network, random: &random)
                    let optimizer = Optimizer(Optimizer.Settings(), parameters: network.parameters)
                    let loss = CrossEntropyLoss()
                    var losses: [Float] = [], state: [[Float]] = [], unwritten = 0
                    for _ in 0..<3 {
                        let x = Tensor(batch: 5, shape: .cifarImage, values: (0..<5 * FeatureShape.cifarImage.count).map { _ in random.normal() })
                        let labels = (0..<5).map { _ in random.below(10) }
                        let gradient = Tensor(zeros: 5, FeatureShape(features: 10))
                        let logits = network.forward(x, mode: .training)
                        unwritten += network.allLayers.filter { $0 is Activation && $0.lastOutput == nil }.count
                        losses.append(loss.evaluate(logits: logits, labels: labels, gradient: gradient).loss)
                        network.backward(gradient)
                        state += network.parameters.map { $0.gradient.array($0.count) }
                        optimizer.step(rate: 0.05)
                    }
                    state += network.stateTensors.compactMap { tensor in
                        guard case let .float(buffer, layout) = tensor.content else { return nil }
                        return buffer.array(layout.count)
                    }
                    return (losses, state, unwritten)
                }
                let written = try run(normalisingOnRead: false), read = try run(normalisingOnRead: true)
                XCTAssertEqual(written.unwritten, 0, spec)
                XCTAssertEqual(read.losses, written.losses, "\(spec), sharing \(sharing): losses")
                XCTAssertEqual(read.state, written.state, "\(spec), sharing \(sharing): gradients, weights, running statistics")
                readThrough += read.unwritten
            }
        }
        try skipUnless(
            readThrough > 0, .cpuLacksKernelPath,
            "no convolution on the \(KernelPath.active) path applies a prologue, so every batch norm wrote its map")
    }
}
