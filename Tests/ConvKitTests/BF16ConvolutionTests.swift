import CKernels
import Foundation
import TestSupport
import XCTest

@testable import ConvKit

/// The bf16 convolution without lowering (`BF16Convolution`): its forward pass, input gradient and weight
/// gradient each within fp32's summation bound of the exact (fp64) result on the bf16-rounded operands, as
/// `BF16KernelTests` holds the bf16 product to it: (k + 2) 2^-24 sum |a_i b_i| for a sum of k products.
final class BF16ConvolutionTests: XCTestCase {
    /// Shapes at the kernel's edges: narrow layers (16 or fewer outputs: the 16-pixel block of one column),
    /// wide ones with a ragged last panel (40 outputs), blocks that cross image rows and images (7 x 9, 5 x 5
    /// maps), a 5x5 kernel, two channels (one pair), and the engine's 32- and 64-channel layers.
    static let shapes: [(inC: Int, outC: Int, height: Int, width: Int, kernel: Int, batch: Int)] = [
        (2, 2, 3, 3, 3, 1), (4, 16, 5, 7, 3, 3), (16, 40, 7, 9, 3, 2), (6, 10, 6, 6, 5, 2), (32, 32, 8, 8, 3, 2),
        (64, 64, 4, 4, 3, 3), (16, 16, 9, 5, 3, 2),
    ]

    private func rounded(_ x: Float) -> Double { Double(ckernels_float_from_bf16(ckernels_bf16_from_float(x))) }

    func testForwardAndGradientsWithinFP32SummationBoundOfTheExactBF16Convolution() throws {
        try skipUnless(KernelPath.cpuHasBF16, .cpuLacksKernelPath, "this CPU has no avx512_bf16, so the bf16 convolution cannot run")
        var random = RandomSource(seed: 7)
        for s in Self.shapes {
            let pad = (s.kernel - 1) / 2, taps = s.kernel * s.kernel
            let shape = ConvolutionShape(
                input: FeatureShape(channels: s.inC, height: s.height, width: s.width), outChannels: s.outC, kernel: s.kernel,
                stride: 1, padding: pad)
            XCTAssertTrue(BF16Convolution.takes(shape))
            XCTAssertEqual(ConvolutionPlan(shape, path: .avx512, arithmetic: .bf16(emulated: false)).forward, .direct)
            let x = (0..<s.batch * shape.input.count).map { _ in random.normal() }
            let w = (0..<s.outC * taps * s.inC).map { _ in random.normal() * 0.2 }
            let bias = (0..<s.outC).map { _ in random.normal() }
            let dy = (0..<s.batch * shape.output.count).map { _ in random.normal() }
            let (h, wd, inC, outC, k) = (s.height, s.width, s.inC, s.outC, s.kernel)
            func input(_ n: Int, _ y: Int, _ x0: Int, _ c: Int) -> Double {
                y < 0 || y >= h || x0 < 0 || x0 >= wd ? 0 : rounded(x[((n * h + y) * wd + x0) * inC + c])
            }
            func gradient(_ n: Int, _ y: Int, _ x0: Int, _ c: Int) -> Double {
                y < 0 || y >= h || x0 < 0 || x0 >= wd ? 0 : rounded(dy[((n * h + y) * wd + x0) * outC + c])
            }
            func weight(_ o: Int, _ ky: Int, _ kx: Int, _ i: Int) -> Double { rounded(w[((o * k + ky) * k + kx) * inC + i]) }

            let backend = BF16Convolution(shape)
            let xt = Tensor(batch: s.batch, shape: shape.input, values: x), dyt = Tensor(batch: s.batch, shape: shape.output, values: dy)
            let yt = Tensor(zeros: s.batch, shape.output), dxt = Tensor(zeros: s.batch, shape.input)
            var dw = [Float](repeating: 0, count: w.count), db = [Float](repeating: 0, count: outC)
            w.withUnsafeBufferPointer { wp in
                bias.withUnsafeBufferPointer { bp in
                    backend.forward(
                        xt, weights: wp.baseAddress!, bias: bp.baseAddress!, epilogue: ConvolutionEpilogue(rectify: true), into: yt)
                }
                backend.backward(
                    xt, outputGradient: dyt, weights: wp.baseAddress!, weightGradient: &dw, biasGradient: &db, inputGradient: dxt)
            }
            let label = "in \(inC) out \(outC) \(h)x\(wd) kernel \(k) batch \(s.batch)"

            var worst = 0.0
            for n in 0..<s.batch {
                for y in 0..<h {
                    for x0 in 0..<wd {
                        for o in 0..<outC {
                            var sum = 0.0, magnitude = 0.0
                            for ky in 0..<k {
                                for kx in 0..<k {
                                    for i in 0..<inC {
                                        let term = input(n, y + ky - pad, x0 + kx - pad, i) * weight(o, ky, kx, i)
                                        sum += term
                                        magnitude += abs(term)
                                    }
                                }
                            }
                            let exact = max(0, sum + Double(bias[o]))
                            let bound = Double(taps * inC + 2) * 0x1p-24 * (magnitude + abs(Double(bias[o]))) + 1e-30
                            worst = max(worst, abs(Double(yt.sample(n)[(y * wd + x0) * outC + o]) - exact) / bound)
                        }
                    }
                }
            }
            XCTAssertLessThanOrEqual(worst, 1, "forward, \(label): error / bound")

            worst = 0
            for n in 0..<s.batch {
                for y in 0..<h {
                    for x0 in 0..<wd {
                        for i in 0..<inC {
                            // dX[y][x][i] = sum over the taps and outputs of dY[y + pad - ky][x + pad - kx][o] W[o][ky][kx][i].
                            var sum = 0.0, magnitude = 0.0
                            for ky in 0..<k {
                                for kx in 0..<k {
                                    for o in 0..<outC {
                                        let term = gradient(n, y + pad - ky, x0 + pad - kx, o) * weight(o, ky, kx, i)
                                        sum += term
                                        magnitude += abs(term)
                                    }
                                }
                            }
                            let bound = Double(taps * outC + 2) * 0x1p-24 * magnitude + 1e-30
                            worst = max(worst, abs(Double(dxt.sample(n)[(y * wd + x0) * inC + i]) - sum) / bound)
                        }
                    }
                }
            }
            XCTAssertLessThanOrEqual(worst, 1, "input gradient, \(label): error / bound")

            // The weight gradient, summed over the batch's pixels (the two workers' parts added in fp32 too).
            worst = 0
            let pixels = s.batch * h * wd
            for o in 0..<outC {
                for ky in 0..<k {
                    for kx in 0..<k {
                        for i in 0..<inC {
                            var sum = 0.0, magnitude = 0.0
                            for n in 0..<s.batch {
                                for y in 0..<h {
                                    for x0 in 0..<wd {
                                        let term = gradient(n, y, x0, o) * input(n, y + ky - pad, x0 + kx - pad, i)
                                        sum += term
                                        magnitude += abs(term)
                                    }
                                }
                            }
                            let bound = Double(pixels + 2 + Parallel.workerCount) * 0x1p-24 * magnitude + 1e-30
                            worst = max(worst, abs(Double(dw[((o * k + ky) * k + kx) * inC + i]) - sum) / bound)
                        }
                    }
                }
            }
            XCTAssertLessThanOrEqual(worst, 1, "weight gradient, \(label): error / bound")

            // A residual block's shortcut, added before the clamp (which the kernel then leaves to the epilogue):
            // exactly the clamped sum of the plain convolution and the shortcut.
            let skip = Tensor(batch: s.batch, shape: shape.output, values: (0..<s.batch * shape.output.count).map { _ in random.normal() })
            let plain = Tensor(zeros: s.batch, shape.output), summed = Tensor(zeros: s.batch, shape.output)
            w.withUnsafeBufferPointer { wp in
                bias.withUnsafeBufferPointer { bp in
                    backend.forward(xt, weights: wp.baseAddress!, bias: bp.baseAddress!, epilogue: .none, into: plain)
                    backend.forward(
                        xt, weights: wp.baseAddress!, bias: bp.baseAddress!, epilogue: ConvolutionEpilogue(residual: skip, rectify: true),
                        into: summed)
                }
            }
            XCTAssertEqual(summed.array, zip(plain.array, skip.array).map { max($0 + $1, 0) }, "residual epilogue, \(label)")
        }
    }

    /// Which layers take it: "same" stride-1 ones with even channel counts, in bf16 with the instruction only
    /// (the portable emulation lowers every layer, and fp32 keeps its own plan).
    func testThePlanTakesItForSameLayersWithEvenChannelsInBF16Only() {
        func plan(_ inC: Int, _ outC: Int, kernel: Int = 3, stride: Int = 1, padding: Int = 1, _ arithmetic: MatrixArithmetic)
            -> ConvolutionPlan
        {
            ConvolutionPlan(
                ConvolutionShape(input: FeatureShape(channels: inC, height: 16, width: 16), outChannels: outC, kernel: kernel,
                                 stride: stride, padding: padding),
                path: .avx512, arithmetic: arithmetic)
        }
        let bf16 = MatrixArithmetic.bf16(emulated: false)
        XCTAssertEqual(plan(32, 64, bf16).forward, .direct)
        XCTAssertEqual(plan(32, 64, bf16).backward, .direct)
        XCTAssertEqual(plan(3, 32, bf16).forward, .lowered, "an odd channel count cannot pair its channels")
        XCTAssertEqual(plan(32, 64, stride: 2, bf16).forward, .lowered, "strided layers are lowered")
        XCTAssertEqual(plan(32, 64, kernel: 1, padding: 0, bf16).forward, .lowered, "1x1 layers are plain products")
        XCTAssertEqual(plan(32, 64, .bf16(emulated: true)).forward, .lowered, "the emulation lowers every layer")
        XCTAssertNotEqual(plan(32, 64, .fp32).forward, .lowered, "fp32 keeps Winograd and its direct kernels")
    }
}
