import TestSupport
import XCTest
import ConvKit

/// A convolution chooses its algorithm and kernel path once, when it is built, from the path active then.
final class ConvolutionPlanTests: XCTestCase {
    /// Runs `body` on `path` when the CPU runs it, then goes back to the path that was active.
    static func on(_ path: KernelPath, _ body: () throws -> Void) throws {
        let previous = KernelPath.active
        try skipUnless(
            path.select(), .cpuLacksKernelPath,
            "this CPU does not run the \(path) kernel path (it runs \(KernelPath.supported.map(\.description).joined(separator: ", ")))")
        defer { previous.select() }
        try body()
    }

    private func conv(_ inC: Int, _ outC: Int, side: Int, kernel: Int = 3, stride: Int = 1) -> Conv2d {
        Conv2d(
            name: "conv", input: FeatureShape(channels: inC, height: side, width: side), outChannels: outC, kernel: kernel,
            stride: stride, padding: kernel / 2, bias: false)
    }

    func testThePortablePathLowersEveryConvolution() throws {
        try Self.on(.portable) {
            for layer in [conv(32, 32, side: 16), conv(3, 32, side: 32), conv(16, 16, side: 8, stride: 2)] {
                XCTAssertEqual(layer.plan.path, .portable)
                XCTAssertEqual(layer.plan.forward, .lowered)
                XCTAssertEqual(layer.plan.backward, .lowered)
            }
        }
    }

    func testVectorPathsFollowTheShapeRules() throws {
        for path in [KernelPath.avx2, .avx512] {
            try Self.on(path) {
                let big = conv(32, 32, side: 16)
                XCTAssertEqual(big.plan.path, path)
                XCTAssertEqual(big.plan.forward, .winograd(.fourByFour))
                XCTAssertEqual(big.plan.backward, .winograd(.fourByFour))
                // F(2x2, 3x3) below 32 channels: direct forward, Winograd backward.
                let narrow = conv(16, 16, side: 8)
                XCTAssertEqual(narrow.plan.forward, .direct)
                XCTAssertEqual(narrow.plan.backward, .winograd(.twoByTwo))
                // A first layer (3 input channels): direct forward, lowered backward.
                let first = conv(3, 32, side: 32)
                XCTAssertEqual(first.plan.forward, .direct)
                XCTAssertEqual(first.plan.backward, .lowered)
                // 1x1 and wide 5x5 layers are lowered both ways.
                XCTAssertEqual(conv(32, 64, side: 8, kernel: 1).plan.forward, .lowered)
                let wide = conv(128, 136, side: 8, kernel: 5)
                XCTAssertEqual(wide.plan.forward, .lowered)
                XCTAssertEqual(wide.plan.backward, .lowered)
            }
        }
    }

    /// Selecting a path changes the layers built afterwards, not one built before, which keeps computing
    /// with its own path's kernels.
    func testALayerKeepsThePathItWasBuiltOn() throws {
        try Self.on(.avx2) {
            let layer = conv(32, 32, side: 16)
            let x = Tensor(zeros: 2, layer.inputShape)
            var random = RandomSource(seed: 5)
            for i in 0..<x.count { x.pointer[i] = random.uniform(-1, 1) }
            for i in 0..<layer.weight.count { layer.weight.value.base[i] = random.uniform(-0.2, 0.2) }
            let before = layer.forward(x, mode: .training).array
            try Self.on(.portable) {
                XCTAssertEqual(layer.plan.path, .avx2)
                XCTAssertEqual(conv(32, 32, side: 16).plan.path, .portable)
                XCTAssertEqual(layer.forward(x, mode: .training).array, before, "the same layer computed differently after a switch")
            }
        }
    }
}
