import XCTest
import ConvKit

/// The initialisers draw weights with the spread their names promise.
final class InitializerTests: XCTestCase {
    private func statistics(_ p: Parameter) -> (mean: Double, std: Double, largest: Float) {
        let values = Array(p.values)
        let mean = values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
        let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(values.count)
        return (mean, variance.squareRoot(), values.map(abs).max() ?? 0)
    }

    private func network(_ initializer: Initializer, seed: UInt64 = 5) throws -> Network {
        let network = try Network(spec: ModelSpec("conv64,bn,relu,maxpool,conv128,relu,gap,fc256,relu,fc10"), input: .cifarImage)
        var random = RandomSource(seed: seed)
        initializer.initialize(network, random: &random)
        return network
    }

    private func parameter(_ network: Network, _ name: String) -> Parameter {
        network.parameters.first { $0.name == name }!
    }

    func testHeIsNormalForConvolutionsAndPyTorchDefaultForLinearLayers() throws {
        let net = try network(.he)
        // conv2: fan_in = 64 * 3 * 3 = 576, std sqrt(2 / 576) = 0.0589.
        let conv = statistics(parameter(net, "conv2.weight"))
        XCTAssertEqual(conv.std, (2.0 / 576).squareRoot(), accuracy: 0.02 * (2.0 / 576).squareRoot())
        XCTAssertEqual(conv.mean, 0, accuracy: 0.002)
        XCTAssertGreaterThan(conv.largest, Float(3 * (2.0 / 576).squareRoot()), "normal, not uniform: has tails")
        // fc1: fan_in 128, weight and bias uniform in +-1/sqrt(128); std of a uniform is bound / sqrt(3).
        let bound = 1 / Float(128).squareRoot()
        for name in ["fc1.weight", "fc1.bias"] {
            let s = statistics(parameter(net, name))
            XCTAssertLessThanOrEqual(s.largest, bound, name)
            XCTAssertGreaterThan(s.largest, 0.9 * bound, name)
        }
        XCTAssertEqual(statistics(parameter(net, "fc1.weight")).std, Double(bound) / 3.0.squareRoot(), accuracy: 0.03 * Double(bound))
        // Batch norm keeps weight 1 and bias 0, convolution biases 0.
        XCTAssertTrue(parameter(net, "bn1.weight").values.allSatisfy { $0 == 1 })
        XCTAssertTrue(parameter(net, "bn1.bias").values.allSatisfy { $0 == 0 })
        XCTAssertTrue(parameter(net, "conv2.bias").values.allSatisfy { $0 == 0 })
    }

    func testXavierAndNormalCoverEveryWeight() throws {
        let xavier = try network(.xavier)
        // fc1: fan_in 128, fan_out 256: bound sqrt(6 / 384) = 0.125.
        let fc = statistics(parameter(xavier, "fc1.weight"))
        XCTAssertLessThanOrEqual(fc.largest, 0.125)
        XCTAssertGreaterThan(fc.largest, 0.12)
        XCTAssertTrue(parameter(xavier, "fc1.bias").values.allSatisfy { $0 == 0 })
        let normal = try network(.normal(std: 0.01))
        for name in ["conv2.weight", "fc1.weight"] {
            XCTAssertEqual(statistics(parameter(normal, name)).std, 0.01, accuracy: 0.0005, name)
        }
    }

    func testTorchDrawsEveryLayerUniformlyInOneOverRootFanIn() throws {
        let net = try network(.torch)
        // conv2: fan_in 576 (its bias too, as PyTorch draws it); fc1: 128.
        for (name, fanIn) in [("conv2.weight", 576.0), ("conv2.bias", 576), ("fc1.weight", 128), ("fc1.bias", 128)] {
            let bound = 1 / fanIn.squareRoot(), s = statistics(parameter(net, name))
            XCTAssertLessThanOrEqual(Double(s.largest), bound, name)
            XCTAssertGreaterThan(Double(s.largest), 0.9 * bound, name)
        }
        let conv = statistics(parameter(net, "conv2.weight"))
        XCTAssertEqual(conv.std, 1 / (3.0 * 576).squareRoot(), accuracy: 0.02 / (3.0 * 576).squareRoot(), "a sixth of He's variance")
        XCTAssertTrue(parameter(net, "bn1.weight").values.allSatisfy { $0 == 1 })
        XCTAssertEqual(Initializer(parsing: "torch"), .torch)
        XCTAssertEqual(Initializer.torch.description, "torch")
    }

    func testSameSeedSameWeights() throws {
        let a = try network(.he, seed: 9), b = try network(.he, seed: 9), c = try network(.he, seed: 10)
        for (p, q) in zip(a.parameters, b.parameters) { XCTAssertEqual(Array(p.values), Array(q.values), p.name) }
        XCTAssertNotEqual(Array(parameter(a, "fc2.weight").values), Array(parameter(c, "fc2.weight").values))
    }
}
