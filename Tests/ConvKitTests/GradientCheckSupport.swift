import XCTest
import ConvKit

/// Finite-difference checks of a layer's backward pass.
///
/// The scalar checked is `L = sum(y * r)` for a fixed random `r`, so `dL/dy = r`. Central differences
/// with step `h` are compared with the analytic gradients at a sample of input and parameter positions.
struct GradientChecker {
    var step: Float = 1e-2
    var absoluteTolerance: Float = 2e-3
    var relativeTolerance: Float = 2e-2
    var samples = 48

    func check(
        _ layer: Layer, batch: Int, mode: ForwardMode = .training, seed: UInt64 = 1,
        input makeInput: ((inout RandomSource) -> Float)? = nil,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        var random = RandomSource(seed: seed)
        let x = Tensor(zeros: batch, layer.inputShape)
        for i in 0..<x.count { x.pointer[i] = makeInput?(&random) ?? random.uniform(-1, 1) }
        let y0 = layer.forward(x, mode: mode)
        let r = Tensor(zeros: batch, layer.outputShape)
        for i in 0..<r.count { r.pointer[i] = random.uniform(-1, 1) }
        _ = y0
        layer.computesInputGradient = true
        let dx = layer.backward(r).array
        let parameterGradients = layer.parameters.map { $0.gradients.map { $0 } }

        func loss() -> Double {
            let y = layer.forward(x, mode: mode)
            var sum = 0.0
            for i in 0..<y.count { sum += Double(y.pointer[i]) * Double(r.pointer[i]) }
            return sum
        }
        let centre = loss()
        var compared = 0, kinks = 0
        /// The central difference, or nil where no finite difference is meaningful: the two
        /// one-sided differences disagree (a ReLU or max-pool switched inside the step), or the
        /// central differences at `step` and `step / 2` disagree. The second catches what the first
        /// misses: a kink just outside the step bends the curve, and near one the float32 forward
        /// pass's rounding (which differs by kernel path) is amplified by `1 / step`. A position
        /// that passed the first test on the portable kernels missed its analytic gradient by 13%
        /// while the half step agreed with it to 0.5%. Either way the estimate is not compared,
        /// and too many such positions fail the check below.
        func numeric(_ pointer: UnsafeMutablePointer<Float>) -> Float? {
            let saved = pointer.pointee
            func lossAt(_ offset: Float) -> Double {
                pointer.pointee = saved + offset
                defer { pointer.pointee = saved }
                return loss()
            }
            let plus = lossAt(step), minus = lossAt(-step)
            let forward = (plus - centre) / Double(step), backward = (centre - minus) / Double(step)
            let central = (plus - minus) / Double(2 * step)
            let half = (lossAt(step / 2) - lossAt(-step / 2)) / Double(step)
            func agree(_ a: Double, _ b: Double) -> Bool {
                abs(a - b) <= Double(absoluteTolerance) + Double(relativeTolerance) * max(abs(a), abs(b))
            }
            guard agree(forward, backward), agree(central, half) else {
                kinks += 1
                return nil
            }
            return Float(central)
        }
        func compare(_ analytic: Float, _ numeric: Float?, _ what: String) {
            guard let numeric else { return }
            compared += 1
            let error = abs(analytic - numeric)
            let allowed = absoluteTolerance + relativeTolerance * max(abs(analytic), abs(numeric))
            XCTAssertLessThanOrEqual(
                error, allowed, "\(layer.name) \(what): analytic \(analytic) vs numeric \(numeric)", file: file, line: line)
        }
        for i in positions(count: x.count, random: &random) {
            compare(dx[i], numeric(x.pointer + i), "d/dinput[\(i)]")
        }
        for (p, parameter) in layer.parameters.enumerated() {
            for i in positions(count: parameter.count, random: &random) {
                compare(parameterGradients[p][i], numeric(parameter.value.base + i), "d/d\(parameter.name)[\(i)]")
            }
        }
        XCTAssertLessThanOrEqual(kinks, (compared + kinks) / 5, "\(layer.name): too many positions sit on or near a kink (\(kinks) of \(compared + kinks))", file: file, line: line)
    }

    private func positions(count: Int, random: inout RandomSource) -> [Int] {
        count <= samples ? Array(0..<count) : (0..<samples).map { _ in random.below(count) }
    }
}

/// Inputs kept away from zero, for layers with a kink there (ReLU): finite differences across the
/// kink would measure the average of two slopes.
func awayFromZero(_ random: inout RandomSource) -> Float {
    let v = random.uniform(0.05, 1)
    return random.uniform() < 0.5 ? -v : v
}
