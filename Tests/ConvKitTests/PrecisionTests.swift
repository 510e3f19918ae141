import CKernels
import Foundation
import TestSupport
import XCTest

@testable import ConvKit

/// `--precision bf16`: the setting in the training config, its refusal where the machine cannot run it, a
/// network's numbers in bf16 against fp32, and training in bf16 against fp32.
final class PrecisionTests: XCTestCase {
    /// bf16 as this machine runs it: the instructions where the CPU has them and the avx512 path is in use,
    /// else the portable emulation, chosen explicitly as a user would (`CONVSCOPE_BF16=emulate`) for the
    /// duration of `body`.
    private func withBF16<T>(_ body: (MatrixArithmetic) throws -> T) throws -> T {
        let hardware = KernelPath.cpuHasBF16 && KernelPath.active == .avx512
        if !hardware { setenv(Precision.emulationVariable, "emulate", 1) }
        defer { if !hardware { unsetenv(Precision.emulationVariable) } }
        let arithmetic = try Precision.bf16.arithmetic.get()
        XCTAssertEqual(arithmetic, .bf16(emulated: !hardware))
        return try body(arithmetic)
    }

    // MARK: The setting

    func testConfigKeepsPrecisionAndOldConfigsReadAsFP32() throws {
        var config = TrainingConfig(model: "tiny", epochs: 2)
        XCTAssertEqual(config.precision, .fp32)
        let fp32Text = try config.jsonText()
        XCTAssertFalse(fp32Text.contains("precision"), "an fp32 config writes what it wrote before the setting existed")
        XCTAssertEqual(try TrainingConfig(jsonText: fp32Text).precision, .fp32)

        config.precision = .bf16
        let bf16Text = try config.jsonText()
        XCTAssertTrue(bf16Text.contains("\"precision\":\"bf16\""), bf16Text)
        // Reading a checkpoint's config does not ask whether this machine runs bf16 (it may only be evaluated).
        let read = try TrainingConfig(jsonText: bf16Text)
        XCTAssertEqual(read.precision, .bf16)
        XCTAssertEqual(read, config)

        let explicit = fp32Text.replacingOccurrences(of: "\"model\":", with: "\"precision\":\"fp32\",\"model\":")
        XCTAssertEqual(try TrainingConfig(jsonText: explicit), try TrainingConfig(jsonText: fp32Text))
        let unknown = fp32Text.replacingOccurrences(of: "\"model\":", with: "\"precision\":\"fp16\",\"model\":")
        XCTAssertThrowsError(try TrainingConfig(jsonText: unknown)) { error in
            XCTAssertEqual((error as? TrainingConfigError)?.setting, .format)
        }
    }

    func testBF16IsRefusedOffTheAVX512PathWithOneLine() {
        guard case .failure(let problem) = Precision.bf16.arithmetic(on: .avx2) else {
            return XCTFail("bf16 on the avx2 path should be refused")
        }
        XCTAssertTrue(problem.description.contains("avx512"), problem.description)
        XCTAssertFalse(problem.description.contains("\n"))
        if case .failure = Precision.fp32.arithmetic(on: .portable) { XCTFail("fp32 runs everywhere") }
    }

    func testValidateRefusesBF16WhereTheMachineCannotRunIt() throws {
        var config = TrainingConfig(model: "tiny", epochs: 1)
        config.precision = .bf16
        if KernelPath.cpuHasBF16 && KernelPath.active == .avx512 {
            XCTAssertNoThrow(try config.validate())
        } else {
            XCTAssertThrowsError(try config.validate()) { error in
                XCTAssertEqual((error as? TrainingConfigError)?.setting, .precision)
            }
        }
        setenv(Precision.emulationVariable, "emulate", 1)
        XCTAssertNoThrow(try config.validate(), "the emulation, chosen explicitly, runs anywhere")
        setenv(Precision.emulationVariable, "fast", 1)
        XCTAssertThrowsError(try config.validate()) { error in
            XCTAssertTrue("\(error)".contains("CONVSCOPE_BF16='fast'"), "\(error)")
        }
        unsetenv(Precision.emulationVariable)
    }

    // MARK: Numbers

    /// The largest difference between two arrays, relative to the largest magnitude of the first.
    private func relativeDifference(_ a: [Float], _ b: [Float]) -> Double {
        let scale = a.map { Double(abs($0)) }.max() ?? 0
        let difference = zip(a, b).map { Double(abs($0 - $1)) }.max() ?? 0
        return difference / max(scale, 1e-30)
    }

    /// Logits, the input gradient, and every weight gradient of one training step of `spec` in `arithmetic`.
    private func step(_ spec: String, _ arithmetic: MatrixArithmetic) throws -> (logits: [Float], gradients: [[Float]]) {
        let network = try Network(spec: ModelSpec(spec), seed: 3)
        var random = RandomSource(seed: 3)
        Initializer.he.initialize(network, random: &random)
        network.arithmetic = arithmetic
        let input = Tensor(zeros: 16, .cifarImage)
        for i in 0..<input.count { input.pointer[i] = random.normal() }
        let labels = (0..<16).map { $0 % 10 }
        let logits = network.forward(input, mode: .training)
        let gradient = Tensor(zeros: 16, FeatureShape(features: 10))
        CrossEntropyLoss().evaluate(logits: logits, labels: labels, gradient: gradient)
        _ = network.backward(gradient)
        return (
            Array(UnsafeBufferPointer(start: logits.pointer, count: logits.count)),
            network.parameters.map { Array(UnsafeBufferPointer(start: $0.gradient.base, count: $0.count)) }
        )
    }

    /// The norm of the difference relative to the norm of the first array.
    private func relativeNormDifference(_ a: [Float], _ b: [Float]) -> Double {
        let norm = a.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        let difference = zip(a, b).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
        return difference / max(norm, 1e-30)
    }

    /// A bf16 step against the fp32 step on the same weights and data: every layer kind with products
    /// (convolutions lowered and 1x1, a residual block's, the classifier). bf16 operands carry 8 significant
    /// bits (relative rounding up to 2^-9); the logits differ from fp32 by about 0.35% of their largest value
    /// (measured on both specs), which 2% bounds. The weight gradients are sums over thousands of positions
    /// that largely cancel at initialisation (random labels, batch norm subtracting means), so their
    /// difference is larger: 0.1-17% of each gradient's norm measured on `simple`, 0.2-10% on the residual
    /// net (the instruction and the emulation alike; docs/precision.md), bounded at 25%. Training is the
    /// test that matters: `testBF16TrainsLikeFP32OnTheSyntheticShapes`.
    func testBF16StepStaysWithinItsToleranceOfFP32() throws {
        for spec in ["simple", "conv16,bn,relu,res32s2,gap,fc10"] {
            let fp32 = try step(spec, .fp32)
            let bf16 = try withBF16 { try step(spec, $0) }
            let logits = relativeDifference(fp32.logits, bf16.logits)
            let gradients = zip(fp32.gradients, bf16.gradients).map { relativeNormDifference($0, $1) }
            print("\(spec): bf16 against fp32, logits \(logits), gradients (relative norm of the difference) \(gradients)")
            XCTAssertLessThan(logits, 0.02, "\(spec) logits")
            XCTAssertGreaterThan(logits, 1e-5, "\(spec): bf16 should differ from fp32 by more than fp32 rounding")
            for (index, difference) in gradients.enumerated() {
                XCTAssertLessThan(difference, 0.25, "\(spec) gradient of parameter \(index)")
            }
        }
    }

    /// The instructions and the emulation on a whole step: the same bf16 arithmetic up to the order of the
    /// fp32 sums.
    func testInstructionAndEmulationGiveTheSameStep() throws {
        try skipUnless(
            KernelPath.cpuHasBF16 && KernelPath.active == .avx512, .cpuLacksKernelPath,
            "this CPU (or CONVSCOPE_KERNELS) has no avx512_bf16 path to compare with the emulation")
        let hardware = try step("simple", .bf16(emulated: false)), emulated = try step("simple", .bf16(emulated: true))
        let logits = relativeDifference(emulated.logits, hardware.logits)
        let gradients = zip(emulated.gradients, hardware.gradients).map { relativeDifference($0, $1) }.max() ?? 0
        print("simple: instruction against emulation, logits \(logits), gradients up to \(gradients)")
        // Bounds with margin over what CI measured on AMD EPYC (Zen 4 class, avx512_bf16) on 2026-12-04: logits 8.1e-4,
        // gradients up to 2.1e-2 (a gradient that cancels at initialisation magnifies the sum order). The old
        // bounds (1e-3, 1e-2) failed that run. A broken instruction path differs by orders of magnitude more.
        XCTAssertLessThan(logits, 5e-3)
        XCTAssertLessThan(gradients, 0.1)
    }

    // MARK: Training

    /// bf16 trains like fp32: `tiny` on the drawn shapes, two epochs, three seeds. Measured (AMD EPYC, Zen 4
    /// class, vdpbf16ps): last-epoch losses within 0.004 of the fp32 twin's, test accuracies within 0.4
    /// points, every run's loss falling by 0.41-0.50 from its first ten steps. Asserted: within 0.05 and 3
    /// points, and a fall of at least 0.25.
    func testBF16TrainsLikeFP32OnTheSyntheticShapes() throws {
        let dataset = SyntheticDataset.generate(seed: 11, trainCount: 3_000, testCount: 500)
        func train(seed: UInt64, _ precision: Precision) throws -> (first: Float, last: Float, accuracy: Float) {
            var config = TrainingConfig(model: "tiny", epochs: 2, batchSize: 64, augmentation: .none, seed: seed)
            config.precision = precision
            let trainer = try Trainer(config: config, dataset: dataset)
            while !trainer.isFinished { trainer.step() }
            let losses = trainer.history.steps.map(\.loss)
            let first = losses.prefix(10).reduce(0, +) / 10
            let lastEpoch = losses.suffix(trainer.stepsPerEpoch)
            return (first, lastEpoch.reduce(0, +) / Float(lastEpoch.count), try XCTUnwrap(trainer.history.epochs.last?.testAccuracy))
        }
        try withBF16 { _ in
            for seed: UInt64 in [0, 1, 2] {
                let fp32 = try train(seed: seed, .fp32), bf16 = try train(seed: seed, .bf16)
                print("seed \(seed): fp32 loss \(fp32.first) -> \(fp32.last), accuracy \(fp32.accuracy); bf16 loss \(bf16.first) -> \(bf16.last), accuracy \(bf16.accuracy)")
                for run in [fp32, bf16] { XCTAssertLessThan(run.last, run.first - 0.25, "seed \(seed) learns") }
                XCTAssertLessThan(abs(bf16.last - fp32.last), 0.05, "seed \(seed): last-epoch loss")
                XCTAssertGreaterThan(bf16.accuracy, fp32.accuracy - 0.03, "seed \(seed): accuracy")
            }
        }
    }
}
