import TestSupport
import XCTest
import ConvKit

/// The kernel paths against each other on the same layers, weights and data: each vector path against the
/// portable one (OpenBLAS products) to fp32 rounding, and the AVX-512 kernels against the AVX2 ones exactly.
///
/// The AVX2 and AVX-512 kernels are one source compiled for two vector widths (convolution_template.h): every
/// output is the same sum of the same products in the same order, only more outputs are computed at once, so
/// their results agree bit for bit. A path the CPU does not run is skipped loudly.
final class KernelPathEqualityTests: XCTestCase {
    /// Shapes that take every backend: direct forward with lowered backward (a first layer, a strided layer,
    /// an unpadded one), the direct "same" backward (5x5), F(2x2, 3x3) backward under a direct forward (16
    /// channels on 8 x 8), F(2x2, 3x3) both ways on an odd side, F(4x4, 3x3) on even and uneven sides, wide
    /// F(2x2, 3x3) on wide layers, wide layers lowered both ways, a 1x1 layer, and Winograd products from 16, 32
    /// and 64 channels (the widths their kernel unrolls; 9 x 9 leaves rows past the last whole block); channel
    /// counts 8 short of a multiple of 16 (24, 40, 136) exercise the AVX-512 kernels' masks.
    static let cases: [(input: FeatureShape, out: Int, kernel: Int, stride: Int, padding: Int)] = [
        (FeatureShape(channels: 3, height: 12, width: 12), 24, 3, 1, 1),
        (FeatureShape(channels: 16, height: 9, width: 9), 40, 3, 2, 1),
        (FeatureShape(channels: 8, height: 7, width: 6), 24, 3, 1, 0),
        (FeatureShape(channels: 24, height: 9, width: 8), 40, 5, 1, 2),
        (FeatureShape(channels: 16, height: 8, width: 8), 16, 3, 1, 1),
        (FeatureShape(channels: 40, height: 7, width: 9), 32, 3, 1, 1),
        (FeatureShape(channels: 24, height: 16, width: 16), 40, 3, 1, 1),
        (FeatureShape(channels: 16, height: 15, width: 17), 24, 3, 1, 1),
        (FeatureShape(channels: 136, height: 7, width: 7), 128, 3, 1, 1),
        (FeatureShape(channels: 128, height: 5, width: 5), 136, 3, 1, 1),
        (FeatureShape(channels: 128, height: 3, width: 3), 136, 3, 1, 1),
        (FeatureShape(channels: 40, height: 6, width: 6), 24, 1, 1, 0),
        (FeatureShape(channels: 32, height: 9, width: 9), 32, 3, 1, 1),
        (FeatureShape(channels: 64, height: 8, width: 8), 64, 3, 1, 1),
    ]

    /// What one layer computes on one path: forward, folded inference, and the three gradients.
    struct Results: Equatable {
        var forward: [Float], folded: [Float], inputGradient: [Float], weightGradient: [Float], biasGradient: [Float]
        var plan: ConvolutionPlan?

        static func == (a: Results, b: Results) -> Bool {
            a.forward == b.forward && a.folded == b.folded && a.inputGradient == b.inputGradient
                && a.weightGradient == b.weightGradient && a.biasGradient == b.biasGradient
        }
    }

    /// Builds the layer of `index` on `path` and runs it on the same seeded weights and data every time.
    static func run(_ index: Int, on path: KernelPath) throws -> Results {
        var results: Results?
        try ConvolutionPlanTests.on(path) {
            let c = cases[index]
            let conv = Conv2d(
                name: "conv", input: c.input, outChannels: c.out, kernel: c.kernel, stride: c.stride, padding: c.padding,
                bias: true)
            let norm = BatchNorm2d(name: "bn", input: conv.outputShape)
            var random = RandomSource(seed: UInt64(31 + index))
            for p in conv.parameters + norm.parameters { for i in 0..<p.count { p.value.base[i] = random.uniform(-0.3, 0.3) } }
            for i in 0..<c.out { norm.runningVariance.base[i] = random.uniform(0.5, 2) }
            let batch = 3
            let x = Tensor(zeros: batch, c.input), dy = Tensor(zeros: batch, conv.outputShape)
            for i in 0..<x.count { x.pointer[i] = random.uniform(-1, 1) }
            for i in 0..<dy.count { dy.pointer[i] = random.uniform(-1, 1) }
            let folded = conv.inferFolded(x, batchNorm: norm, rectify: true).array
            let forward = conv.forward(x, mode: .training).array
            let dx = conv.backward(dy).array
            results = Results(
                forward: forward, folded: folded, inputGradient: dx, weightGradient: Array(conv.weight.gradients),
                biasGradient: Array(conv.bias!.gradients), plan: conv.plan)
        }
        return try XCTUnwrap(results)
    }

    func testTheAVX2PathAgreesWithThePortableOne() throws { try compareWithPortable(.avx2) }

    func testTheAVX512PathAgreesWithThePortableOne() throws { try compareWithPortable(.avx512) }

    private func compareWithPortable(_ path: KernelPath) throws {
        try skipUnless(
            path <= KernelPath.best, .cpuLacksKernelPath, "this CPU does not run the \(path) kernel path; it was not compared")
        var algorithms: Set<String> = []
        for index in Self.cases.indices {
            let portable = try Self.run(index, on: .portable), vector = try Self.run(index, on: path)
            if let plan = vector.plan { algorithms.formUnion(["\(plan.forward) forward", "\(plan.backward) backward"]) }
                let pairs = [
                ("forward", vector.forward, portable.forward), ("folded inference", vector.folded, portable.folded),
                ("input gradient", vector.inputGradient, portable.inputGradient),
                ("weight gradient", vector.weightGradient, portable.weightGradient),
                ("bias gradient", vector.biasGradient, portable.biasGradient),
            ]
            for (name, ours, reference) in pairs {
                XCTAssertEqual(ours.count, reference.count)
                // Winograd F(4x4, 3x3) rounds to about 4e-6 of the largest value in fp32.
                let scale = reference.map { abs($0) }.max() ?? 1
                let worst = zip(ours, reference).map { abs($0 - $1) }.max() ?? .infinity
                XCTAssertLessThan(
                    worst / max(scale, 1e-6), 2e-5,
                    "case \(index) (\(vector.plan.map(String.init(describing:)) ?? "")): \(name) off by \(worst) of \(scale)")
            }
        }
        // Every backend was compared.
        for algorithm in ["lowered", "direct", "Winograd F(2x2, 3x3)", "Winograd F(4x4, 3x3)"] {
            XCTAssertTrue(algorithms.contains("\(algorithm) forward"), "no case computes \(algorithm) forward on \(path)")
            XCTAssertTrue(algorithms.contains("\(algorithm) backward"), "no case computes \(algorithm) backward on \(path)")
        }
    }

    func testTheAVX512KernelsComputeExactlyWhatTheAVX2OnesDo() throws {
        try skipUnless(
            KernelPath.avx512 <= KernelPath.best, .cpuLacksKernelPath,
            "this CPU does not run the avx512 kernel path; it was not compared with avx2")
        for index in Self.cases.indices {
            let avx2 = try Self.run(index, on: .avx2), avx512 = try Self.run(index, on: .avx512)
            XCTAssertEqual(avx2.plan?.forward, avx512.plan?.forward)
            XCTAssertEqual(avx2.plan?.backward, avx512.plan?.backward)
            XCTAssertTrue(avx2 == avx512, "case \(index) (\(avx512.plan.map(String.init(describing:)) ?? "")) differs between avx2 and avx512")
        }
    }
}
