import Foundation
import TestSupport
import XCTest
import CKernels
import ConvKit

/// Every layer's backward pass against finite differences.
final class LayerGradientTests: XCTestCase {
    let checker = GradientChecker()
    let image = FeatureShape(channels: 3, height: 7, width: 6)

    func testConvolutionVariants() {
        let cases: [(out: Int, kernel: Int, stride: Int, padding: Int, bias: Bool)] = [
            (4, 3, 1, 1, true), (5, 3, 2, 1, false), (3, 1, 1, 0, true), (4, 1, 2, 0, false), (2, 5, 1, 2, true),
            (3, 3, 1, 0, true), (4, 2, 2, 0, true),
        ]
        for c in cases {
            let conv = Conv2d(
                name: "conv", input: image, outChannels: c.out, kernel: c.kernel, stride: c.stride, padding: c.padding,
                bias: c.bias)
            var random = RandomSource(seed: 9)
            for i in 0..<conv.weight.count { conv.weight.value.base[i] = random.uniform(-0.5, 0.5) }
            if let bias = conv.bias { for i in 0..<bias.count { bias.value.base[i] = random.uniform(-0.5, 0.5) } }
            checker.check(conv, batch: 3)
        }
    }

    /// 3x3 "same" layers take Winograd: F(4x4, 3x3) on maps with both sides 15 or more, from 16
    /// channels; F(2x2, 3x3) on smaller ones (even, or odd from 5), for the forward pass with 32+
    /// channels, for the input and weight gradients with 16+. All must still be exact derivatives
    /// of each other (three images: a worker sums the tiles of more than one).
    func testWinogradConvolution() {
        for (inC, out, side) in [(32, 32, 6), (32, 40, 6), (16, 16, 6), (16, 24, 16), (32, 32, 7), (16, 16, 17)] {
            let shape = FeatureShape(channels: inC, height: side, width: side - 2)
            let conv = Conv2d(name: "conv", input: shape, outChannels: out, kernel: 3, stride: 1, padding: 1, bias: true)
            var random = RandomSource(seed: 17)
            for p in conv.parameters { for i in 0..<p.count { p.value.base[i] = random.uniform(-0.2, 0.2) } }
            checker.check(conv, batch: 3)
        }
    }

    /// Each Winograd tile gives the convolution and both its gradients as the plain sums over the 3x3
    /// window do (computed here in double precision), to fp32 rounding: F(4x4, 3x3) on 16 x 16 and
    /// 32 x 32 maps, F(2x2, 3x3) on 6 x 6 and (gradients only) 10 x 10, and both on sides they do not
    /// divide, where the edge tiles overhang the map (15 x 13, 31 x 31 and, with 128+ channels, 7 x 7; 7 x 5).
    func testWinogradMatchesTheDirectSums() throws {
        try skipUnless(
            KernelPath.active >= .avx2, .cpuLacksKernelPath,
            "the Winograd kernels are vector code (AVX2, AVX-512) and the kernels run the \(KernelPath.active) path "
                + "(\(KernelPath.environmentVariable) or the CPU); the lowered convolutions were checked instead")
        XCTAssertNotEqual(ckernels_winograd4_supported(16, 24, 15, 13), 0)
        XCTAssertNotEqual(ckernels_winograd_supported(32, 40, 7, 5), 0)
        let cases = [
            (16, 24, 16, 16), (16, 16, 32, 32), (32, 40, 6, 6), (16, 16, 10, 10), (16, 24, 15, 13), (16, 16, 31, 31), (32, 40, 7, 5),
            (128, 136, 7, 7),
        ]
        for (inC, outC, height, width) in cases {
            let shape = FeatureShape(channels: inC, height: height, width: width)
            let conv = Conv2d(name: "conv", input: shape, outChannels: outC, kernel: 3, stride: 1, padding: 1, bias: true)
            var random = RandomSource(seed: 23)
            for p in conv.parameters { for i in 0..<p.count { p.value.base[i] = random.uniform(-0.3, 0.3) } }
            let batch = 3  // one worker convolves two images as one group of tiles
            let x = Tensor(zeros: batch, shape), dy = Tensor(zeros: batch, conv.outputShape)
            for i in 0..<x.count { x.pointer[i] = random.uniform(-1, 1) }
            for i in 0..<dy.count { dy.pointer[i] = random.uniform(-1, 1) }
            let y = conv.forward(x, mode: .training).array
            let dx = conv.backward(dy).array, dw = Array(conv.weight.gradients)
            let w = conv.weight.value.base, b = conv.bias!.value.base
            var wantY = [Double](repeating: 0, count: y.count), wantDx = [Double](repeating: 0, count: dx.count)
            var wantDw = [Double](repeating: 0, count: dw.count)
            for n in 0..<batch {
                for oy in 0..<height {
                    for ox in 0..<width {
                        let out = ((n * height + oy) * width + ox) * outC
                        for o in 0..<outC { wantY[out + o] = Double(b[o]) }
                        for t in 0..<9 {
                            let iy = oy + t / 3 - 1, ix = ox + t % 3 - 1
                            guard iy >= 0 && iy < height && ix >= 0 && ix < width else { continue }
                            let pixel = ((n * height + iy) * width + ix) * inC
                            for o in 0..<outC {
                                let g = Double(dy.pointer[out + o])
                                for i in 0..<inC {
                                    let weight = Double(w[(o * 9 + t) * inC + i]), value = Double(x.pointer[pixel + i])
                                    wantY[out + o] += weight * value
                                    wantDx[pixel + i] += weight * g
                                    wantDw[(o * 9 + t) * inC + i] += value * g
                                }
                            }
                        }
                    }
                }
            }
            for (name, ours, want) in [("output", y, wantY), ("input gradient", dx, wantDx), ("weight gradient", dw, wantDw)] {
                let scale = want.map(abs).max() ?? 1
                let worst = zip(ours, want).map { abs(Double($0) - $1) }.max() ?? .infinity
                XCTAssertLessThan(worst / scale, 1e-5, "\(inC) -> \(outC) channels on \(height) x \(width): \(name) off by \(worst) of \(scale)")
            }
        }
    }

    /// Output channels in multiples of 8 take the direct AVX2 kernel (16- and 8-wide tiles, pixel
    /// tails), and "same" convolutions over 8k input channels also compute the input gradient with it.
    func testDirectConvolutionKernel() {
        let wide = FeatureShape(channels: 8, height: 5, width: 7)
        let cases: [(input: FeatureShape, out: Int, kernel: Int, stride: Int, padding: Int)] = [
            (wide, 8, 3, 1, 1), (wide, 24, 3, 1, 1), (wide, 16, 3, 2, 1), (image, 16, 5, 1, 2), (wide, 8, 3, 1, 0),
        ]
        for c in cases {
            let conv = Conv2d(name: "conv", input: c.input, outChannels: c.out, kernel: c.kernel, stride: c.stride, padding: c.padding, bias: true)
            var random = RandomSource(seed: 13)
            for p in conv.parameters { for i in 0..<p.count { p.value.base[i] = random.uniform(-0.3, 0.3) } }
            checker.check(conv, batch: 3)
        }
    }

    /// Layers with 128+ channels on both sides on maps Winograd cannot tile (odd sizes) go through the
    /// lowered product in both directions instead of the direct kernel.
    func testWideLayersOnOddMaps() {
        let shape = FeatureShape(channels: 128, height: 3, width: 3)
        let conv = Conv2d(name: "conv", input: shape, outChannels: 136, kernel: 3, stride: 1, padding: 1, bias: true)
        var random = RandomSource(seed: 21)
        for p in conv.parameters { for i in 0..<p.count { p.value.base[i] = random.uniform(-0.05, 0.05) } }
        checker.check(conv, batch: 3)
    }

    func testBatchNormInTrainingAndInference() {
        let bn = BatchNorm2d(name: "bn", input: image)
        var random = RandomSource(seed: 3)
        for i in 0..<3 {
            bn.weight.value.base[i] = random.uniform(0.5, 1.5)
            bn.bias.value.base[i] = random.uniform(-0.5, 0.5)
            bn.runningMean.base[i] = random.uniform(-0.2, 0.2)
            bn.runningVariance.base[i] = random.uniform(0.5, 2)
        }
        checker.check(bn, batch: 4, mode: .training)
        checker.check(bn, batch: 4, mode: .inference)
        // Wider maps, as the presets have them.
        let wide = BatchNorm2d(name: "bn", input: FeatureShape(channels: 16, height: 5, width: 4))
        for i in 0..<16 { wide.weight.value.base[i] = random.uniform(0.5, 1.5) }
        checker.check(wide, batch: 3, mode: .training)
    }

    func testActivations() {
        let functions: [Activation.Function] = [
            .relu, .leakyReLU(slope: 0.1), .elu(alpha: 1), .selu, .swish, .gelu, .sigmoid, .tanh,
        ]
        for function in functions {
            let layer = Activation(name: "\(function.kind)", function: function, input: image)
            checker.check(layer, batch: 2, input: awayFromZero)
        }
    }

    /// GELU runs on a polynomial erf (`CKernels`): its values and slopes stay within 1e-6 of the erf
    /// definition PyTorch uses, from the far negative tail (where it is almost 0) to the far positive one.
    func testGELUMatchesTheErfDefinition() {
        let xs = (0...4000).map { Float($0 - 2000) / 200 }  // -10 ... 10 in steps of 0.005
        let shape = FeatureShape(features: xs.count)
        let layer = Activation(name: "gelu", function: .gelu, input: shape)
        let y = layer.forward(Tensor(batch: 1, shape: shape, values: xs), mode: .training).array
        let dx = layer.backward(Tensor(batch: 1, shape: shape, values: [Float](repeating: 1, count: xs.count))).array
        for (i, x) in xs.enumerated() {
            let v = Double(x), cdf = 0.5 * (1 + erf(v / 2.0.squareRoot())), pdf = exp(-v * v / 2) / (2 * Double.pi).squareRoot()
            XCTAssertEqual(Double(y[i]), v * cdf, accuracy: 1e-6 * max(1, abs(v)), "GELU(\(x))")
            XCTAssertEqual(Double(dx[i]), cdf + v * pdf, accuracy: 1e-6 * max(1, abs(v)), "GELU'(\(x))")
        }
    }

    func testPooling() {
        // Distinct values keep each window's maximum unique (ties are tested separately).
        let distinct: (inout RandomSource) -> Float = { $0.uniform(-4, 4) }
        checker.check(MaxPool2d(name: "maxpool", input: image, kernel: 2, stride: 2), batch: 2, input: distinct)
        checker.check(MaxPool2d(name: "maxpool", input: image, kernel: 3, stride: 2), batch: 2, input: distinct)
        checker.check(AvgPool2d(name: "avgpool", input: image, kernel: 2, stride: 2), batch: 2)
        checker.check(AvgPool2d(name: "avgpool", input: image, kernel: 3, stride: 1), batch: 2)
        checker.check(GlobalAvgPool(name: "gap", input: image), batch: 3)
    }

    func testMaxPoolWinnersFitTheirWindowOnEveryKernelPath() throws {
        // A 16 x 16 window has 256 taps, the most a winner's byte can name, and 70 channels are two of the
        // kernel's 32-channel blocks and a remainder. Each window's maximum is placed at a random tap (channel
        // 0's at the last one), and the gradient must reach exactly that input, on every path this CPU runs.
        let shape = FeatureShape(channels: 70, height: 16, width: 32)
        for path in KernelPath.supported {
            try ConvolutionPlanTests.on(path) {
                let pool = MaxPool2d(name: "maxpool", input: shape, kernel: 16, stride: 16)
                XCTAssertEqual(pool.outputShape, FeatureShape(channels: 70, height: 1, width: 2))
                var random = RandomSource(seed: 5)
                var values = (0..<(2 * shape.count)).map { _ in random.uniform(-1, 0) }
                var winners: [Int] = []
                for n in 0..<2 {
                    for ox in 0..<2 {
                        for c in 0..<70 {
                            let tap = c == 0 ? 255 : Int(random.next() % 256)
                            winners.append(n * shape.count + ((tap / 16) * 32 + ox * 16 + tap % 16) * 70 + c)
                            values[winners.last!] = 1 + Float(c)
                        }
                    }
                }
                let x = Tensor(batch: 2, shape: shape, values: values)
                let y = pool.forward(x, mode: .training).array
                XCTAssertEqual(y, winners.map { values[$0] }, "\(path): each window's maximum")
                let dy = Tensor(batch: 2, shape: pool.outputShape, values: (0..<y.count).map { Float($0 + 1) })
                let dx = pool.backward(dy).array
                var expected = [Float](repeating: 0, count: dx.count)
                for (i, winner) in winners.enumerated() { expected[winner] += Float(i + 1) }
                XCTAssertEqual(dx, expected, "\(path): each gradient reaches its window's winner and nothing else")
            }
        }
    }

    func testMaxPoolTiesRouteToTheFirstMaximum() {
        // Every window of a constant image is a four-way tie; PyTorch gives the gradient to the first
        // element of the window in row order, and nothing to the others.
        let shape = FeatureShape(channels: 2, height: 4, width: 4)
        let pool = MaxPool2d(name: "maxpool", input: shape, kernel: 2, stride: 2)
        let x = Tensor(batch: 1, shape: shape, values: [Float](repeating: 0.5, count: shape.count))
        _ = pool.forward(x, mode: .training)
        let dy = Tensor(batch: 1, shape: pool.outputShape, values: (0..<pool.outputShape.count).map { Float($0 + 1) })
        let dx = pool.backward(dy).array
        for y in 0..<4 {
            for x in 0..<4 {
                for c in 0..<2 {
                    let value = dx[(y * 4 + x) * 2 + c]
                    if y % 2 == 0 && x % 2 == 0 {
                        XCTAssertEqual(value, Float(((y / 2) * 2 + x / 2) * 2 + c + 1), "(\(y),\(x),\(c)) is the first of its window")
                    } else {
                        XCTAssertEqual(value, 0, "(\(y),\(x),\(c)) tied but not first: no gradient")
                    }
                }
            }
        }
    }

    func testDropoutWithAFixedMask() {
        for channelwise in [false, true] {
            let dropout = Dropout(name: "dropout", input: image, probability: 0.4, channelwise: channelwise, seed: 5)
            let x = Tensor(zeros: 2, image)
            _ = dropout.forward(x, mode: .training)
            dropout.freezesMask = true
            checker.check(dropout, batch: 2)
            // Inference is the identity.
            let y = dropout.forward(Tensor(batch: 1, shape: image, values: (0..<image.count).map(Float.init)), mode: .inference)
            XCTAssertEqual(y.array, (0..<image.count).map(Float.init))
        }
    }

    func testDropoutScalesSurvivorsAndDropsTheRightShare() {
        let shape = FeatureShape(channels: 8, height: 16, width: 16)
        let dropout = Dropout(name: "dropout", input: shape, probability: 0.3, channelwise: false, seed: 2)
        let y = dropout.forward(Tensor(batch: 4, shape: shape, values: [Float](repeating: 1, count: 4 * shape.count)), mode: .training)
        let values = y.array
        let zeros = values.filter { $0 == 0 }.count
        XCTAssertEqual(Double(zeros) / Double(values.count), 0.3, accuracy: 0.02)
        XCTAssertTrue(values.allSatisfy { $0 == 0 || abs($0 - 1 / 0.7) < 1e-6 })
    }

    func testLinearOnVectorsAndOnFeatureMaps() {
        let vector = Linear(name: "fc", input: FeatureShape(features: 7), outFeatures: 4)
        let spatial = Linear(name: "fc", input: image, outFeatures: 3)
        for layer in [vector, spatial] {
            var random = RandomSource(seed: 4)
            for p in layer.parameters { for i in 0..<p.count { p.value.base[i] = random.uniform(-0.5, 0.5) } }
            checker.check(layer, batch: 3)
        }
    }

    func testResidualBlocks() {
        // 8 channels, as in the presets (the first batch norm applies the ReLU after it).
        for (channels, stride) in [(3, 1), (5, 1), (4, 2), (8, 1)] {
            let block = ResidualBlock(name: "res", input: image, outChannels: channels, stride: stride)
            var random = RandomSource(seed: 8)
            for p in block.parameters where p.isWeight { for i in 0..<p.count { p.value.base[i] = random.uniform(-0.5, 0.5) } }
            // A weight moves a whole channel through batch norm and two ReLUs: a small step keeps
            // most positions clear of a kink.
            var fine = checker
            fine.step = 1e-3
            fine.check(block, batch: 3)
        }
    }

    func testFlattenKeepsMemoryOrder() {
        let flatten = Flatten(name: "flatten", input: image)
        let x = Tensor(batch: 2, shape: image, values: (0..<2 * image.count).map(Float.init))
        let y = flatten.forward(x, mode: .training)
        XCTAssertEqual(y.shape.count, image.count)
        XCTAssertEqual(y.array, x.array)
        XCTAssertEqual(flatten.backward(y).shape, image)
    }
}
