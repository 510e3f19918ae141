import XCTest
import ConvKit

/// The update rules and schedules against PyTorch's formulas, worked by hand for a few steps.
final class OptimizerTests: XCTestCase {
    /// One weight (decays) and one bias (does not), with fixed gradients each step.
    private func run(_ settings: Optimizer.Settings, steps: Int, rate: Float) -> (weight: Float, bias: Float) {
        let weight = Parameter(name: "w", count: 1, layout: .plain([1]), decays: true, initial: 1)
        let bias = Parameter(name: "b", count: 1, layout: .plain([1]), decays: false, initial: 1)
        let optimizer = Optimizer(settings, parameters: [weight, bias])
        for step in 0..<steps {
            weight.gradient.base[0] = 0.5 + Float(step) * 0.25
            bias.gradient.base[0] = 0.5 + Float(step) * 0.25
            optimizer.step(rate: rate)
        }
        return (weight.value.base[0], bias.value.base[0])
    }

    func testSGDWithNesterovMomentumAndWeightDecay() {
        let result = run(Optimizer.Settings(kind: .sgd, momentum: 0.9, nesterov: true, weightDecay: 0.1), steps: 2, rate: 0.1)
        // Weight: g1 = 0.5 + 0.1*1 = 0.6; buf = 0.6; step = 0.6 + 0.9*0.6 = 1.14; w = 1 - 0.114 = 0.886.
        // g2 = 0.75 + 0.0886 = 0.8386; buf = 0.54 + 0.8386 = 1.3786; step = 0.8386 + 1.24074 = 2.07934; w = 0.886 - 0.207934.
        XCTAssertEqual(result.weight, 0.678066, accuracy: 1e-6)
        // Bias, no decay: g1 = 0.5, step 0.95 -> 0.905; g2 = 0.75, buf 1.2, step 1.83 -> 0.722.
        XCTAssertEqual(result.bias, 0.722, accuracy: 1e-6)
        let plain = run(Optimizer.Settings(kind: .sgd, momentum: 0.9, nesterov: false, weightDecay: 0), steps: 2, rate: 0.1)
        // buf 0.5 -> 0.95 -> w = 1 - 0.05 - 0.12 = 0.83 (buf2 = 0.45 + 0.75 = 1.2).
        XCTAssertEqual(plain.weight, 0.83, accuracy: 1e-6)
    }

    func testAdamAndAdamW() {
        // Adam, step 1: m = 0.1 g, v = 0.001 g^2, bias-corrected m/sqrt(v) = sign(g): w -= lr (almost exactly).
        let adam = run(Optimizer.Settings(kind: .adam, weightDecay: 0), steps: 1, rate: 0.01)
        XCTAssertEqual(adam.weight, 1 - 0.01 * 0.5 / (0.5 + 1e-8), accuracy: 1e-7)
        // Adam's L2 decay joins the gradient; AdamW shrinks the weight first: w = 1 * (1 - 0.01*0.1) - 0.01.
        let adamw = run(Optimizer.Settings(kind: .adamw, weightDecay: 0.1), steps: 1, rate: 0.01)
        XCTAssertEqual(adamw.weight, 0.999 - 0.01, accuracy: 1e-6)
        XCTAssertEqual(adamw.bias, 1 - 0.01, accuracy: 1e-6, "no decay on biases")
        // Two Adam steps with g = 0.5 then 0.75 (beta1 0.9, beta2 0.999):
        let m = 0.9 * 0.05 + 0.1 * 0.75, v = 0.999 * 0.00025 + 0.001 * 0.5625
        let step2 = 0.01 * (m / (1 - 0.81)) / ((v / (1 - 0.998001)).squareRoot() + 1e-8)
        let two = run(Optimizer.Settings(kind: .adam, weightDecay: 0), steps: 2, rate: 0.01)
        XCTAssertEqual(Double(two.weight), 1 - 0.01 - step2, accuracy: 1e-6)
    }

    func testOneCycleMatchesPyTorchsOneCycleLR() {
        let schedule = LearningRateSchedule.standardOneCycle
        let total = 1000
        func rate(_ step: Int) -> Float { schedule.rate(peak: 0.1, step: step, totalSteps: total, stepsPerEpoch: 100) }
        XCTAssertEqual(rate(0), 0.01, accuracy: 1e-7, "starts at peak / 10")
        XCTAssertEqual(rate(149), 0.1, accuracy: 1e-7, "peaks at step 0.15 * total - 1")
        XCTAssertEqual(rate(999), 0.0001, accuracy: 1e-8, "ends at peak / 1000")
        // Inside warm-up PyTorch anneals by cosine: end + (start - end) / 2 * (cos(pi * t) + 1), t = 74/149.
        XCTAssertEqual(Double(rate(74)), 0.1 + (0.01 - 0.1) / 2 * (cos(Double.pi * 74 / 149) + 1), accuracy: 1e-7)
        XCTAssertEqual(schedule.momentum(step: 0, totalSteps: total)!, 0.95, accuracy: 1e-7)
        XCTAssertEqual(schedule.momentum(step: 149, totalSteps: total)!, 0.85, accuracy: 1e-7)
        XCTAssertEqual(schedule.momentum(step: 999, totalSteps: total)!, 0.95, accuracy: 1e-7)
    }

    func testOtherSchedules() {
        XCTAssertEqual(LearningRateSchedule.cosine.rate(peak: 0.2, step: 50, totalSteps: 100, stepsPerEpoch: 10), 0.1, accuracy: 1e-7)
        let step = LearningRateSchedule("step:3:0.5")!
        XCTAssertEqual(step.rate(peak: 0.2, step: 29, totalSteps: 100, stepsPerEpoch: 10), 0.2)
        XCTAssertEqual(step.rate(peak: 0.2, step: 30, totalSteps: 100, stepsPerEpoch: 10), 0.1)
        XCTAssertEqual(step.rate(peak: 0.2, step: 65, totalSteps: 100, stepsPerEpoch: 10), 0.05)
        XCTAssertEqual(LearningRateSchedule.constant.rate(peak: 0.3, step: 7, totalSteps: 10, stepsPerEpoch: 1), 0.3)
        XCTAssertNil(LearningRateSchedule("exponential"))
        XCTAssertNil(LearningRateSchedule("step:0"))
    }

    func testLabelSmoothingLossAndGradient() {
        // Two classes, logits (0, 0): p = (0.5, 0.5). Smoothing 0.2: target (0.9, 0.1) for label 0.
        let logits = Tensor(batch: 1, shape: FeatureShape(features: 2), values: [0, 0])
        let gradient = Tensor(zeros: 1, FeatureShape(features: 2))
        let result = CrossEntropyLoss(labelSmoothing: 0.2).evaluate(logits: logits, labels: [0], gradient: gradient)
        XCTAssertEqual(result.loss, Float(log(2.0)), accuracy: 1e-6)
        XCTAssertEqual(gradient.array[0], 0.5 - 0.9, accuracy: 1e-6)
        XCTAssertEqual(gradient.array[1], 0.5 - 0.1, accuracy: 1e-6)
        // Confident and right: loss near zero without smoothing.
        let sure = Tensor(batch: 1, shape: FeatureShape(features: 3), values: [20, 0, 0])
        XCTAssertLessThan(CrossEntropyLoss().evaluate(logits: sure, labels: [0]).loss, 1e-6)
        XCTAssertEqual(CrossEntropyLoss().evaluate(logits: sure, labels: [0]).correct, 1)
    }

    /// Muon steps a filter bank along its gradient with every singular value pushed towards one (the
    /// quintic Newton-Schulz map applied three times to the singular values of the gradient scaled to
    /// norm 1), keeping the singular vectors; it first rescales the bank to norm sqrt(filters). Other
    /// parameters take Nesterov SGD at `momentum`.
    func testMuonOrthogonalisesFilterUpdates() {
        // G = A diag(4, 3, 2, 1) B: A a 4x4 Hadamard matrix / 2 (orthogonal), B four signed unit rows of 36.
        let hadamard: [[Float]] = [[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]]
        let singular: [Float] = [4, 3, 2, 1]
        let columns = [0, 10, 20, 30], signs: [Float] = [1, -1, 1, -1]
        func shaped(_ values: [Float]) -> [Float] {
            var matrix = [Float](repeating: 0, count: 4 * 36)
            for i in 0..<4 { for k in 0..<4 { matrix[i * 36 + columns[k]] += hadamard[i][k] / 2 * values[k] * signs[k] } }
            return matrix
        }
        let norm = singular.map { $0 * $0 }.reduce(0, +).squareRoot()
        let mapped = singular.map { value -> Float in
            var x = value / norm
            for _ in 0..<3 { x = 3.4445 * x - 4.7750 * x * x * x + 2.0315 * x * x * x * x * x }
            return x
        }
        XCTAssertTrue(mapped.allSatisfy { $0 > 0.6 && $0 < 1.25 }, "three steps bring 4:3:2:1 near 1:1:1:1: \(mapped)")
        let gradient = shaped(singular), expected = shaped(mapped)

        // The bank as 4 filters of 4 x 3 x 3, and transposed as 36 filters of 4 x 1 x 1.
        let wide = Parameter(name: "wide", count: 144, layout: .convolution(outChannels: 4, inChannels: 4, kernel: 3), decays: true, initial: 0.5)
        let tall = Parameter(name: "tall", count: 144, layout: .convolution(outChannels: 36, inChannels: 4, kernel: 1), decays: true, initial: 0.5)
        let bias = Parameter(name: "bias", count: 1, layout: .plain([1]), decays: false, initial: 1)
        for index in 0..<144 {
            wide.gradient.base[index] = gradient[index]
            tall.gradient.base[(index % 36) * 4 + index / 36] = gradient[index]
        }
        bias.gradient.base[0] = 0.5
        let settings = Optimizer.Settings(kind: .muon, momentum: 0.85, nesterov: true, weightDecay: 0.1, filterMomentum: 0.6)
        Optimizer(settings, parameters: [wide, tall, bias]).step(rate: 0.1)
        // Norm 0.5 * 12 = 6 rescaled to sqrt(4) = 2 (wide) or sqrt(36) = 6 (tall); no decay on filters.
        for index in 0..<144 {
            XCTAssertEqual(wide.value.base[index], 0.5 / 3 - 0.1 * expected[index], accuracy: 1e-4, "wide \(index)")
            XCTAssertEqual(tall.value.base[(index % 36) * 4 + index / 36], 0.5 - 0.1 * expected[index], accuracy: 1e-4, "tall \(index)")
        }
        XCTAssertEqual(bias.value.base[0], 1 - 0.1 * (0.5 + 0.85 * 0.5), accuracy: 1e-6, "Nesterov SGD on the rest")
    }
}
