import Foundation
import XCTest
import ConvKit

/// `CheckpointComparison`: the per-layer weight change, both models' scores and the flips, on tiny models.
final class CheckpointComparisonTests: XCTestCase {
    private static let spec = "conv8,bn,relu,maxpool,conv16,bn,relu,gap,fc10"

    private func trained(_ spec: String = spec, seed: UInt64 = 1) throws -> Trainer {
        let dataset = SyntheticDataset.generate(seed: 5, trainCount: 256, testCount: 300)
        let trainer = try Trainer(config: TrainingConfig(model: spec, epochs: 1, batchSize: 64, seed: seed), dataset: dataset)
        while !trainer.isFinished { trainer.step() }
        return trainer
    }

    func testACheckpointAgainstItselfChangesNothingAndFlipsNothing() throws {
        let trainer = try trained()
        let a = Classifier.float(trainer.network.copy()), b = Classifier.float(trainer.network.copy())
        let result = try XCTUnwrap(try CheckpointComparison.compare(a, b, on: trainer.dataset.test))
        XCTAssertEqual(result.basis, .stored)
        XCTAssertEqual(result.layers.map(\.layer), ["conv1", "conv2", "fc1"])
        for layer in result.layers {
            XCTAssertNil(layer.gap, layer.layer)
            XCTAssertEqual(layer.relativeChange, 0, layer.layer)
            XCTAssertEqual(layer.cosine ?? 0, 1, accuracy: 1e-9, layer.layer)
        }
        XCTAssertEqual(result.flips, [])
        XCTAssertEqual(result.images, 300)
        XCTAssertEqual(result.scoreA, result.scoreB)
        // The score is the evaluator's: the same accuracy and per-class accuracy.
        let evaluation = Evaluator.evaluate(trainer.network, on: trainer.dataset.test)
        XCTAssertEqual(result.scoreA.accuracy, Double(evaluation.accuracy), accuracy: 1e-6)
        for (mine, theirs) in zip(result.scoreA.perClassAccuracy, evaluation.perClassAccuracy) {
            XCTAssertEqual(mine, Double(theirs), accuracy: 1e-6)
        }
    }

    func testAPrunedCopyChangesThePrunedLayersByTheNormOfWhatWasRemoved() throws {
        let trainer = try trained()
        let original = trainer.network.copy(), pruned = trainer.network.copy()
        MagnitudePruning.prune(pruned, amount: 0.5)
        let result = try XCTUnwrap(try CheckpointComparison.compare(.float(original), .float(pruned), on: trainer.dataset.test))
        let weights = original.parameters.filter(\.isWeight)
        XCTAssertEqual(result.layers.count, weights.count)
        for (layer, parameter) in zip(result.layers, weights) {
            // Pruning zeroes weights: B - A is minus the removed ones, so the change is their norm over A's.
            let removed = zip(parameter.values, pruned.parameters.first { $0.name == parameter.name }!.values)
                .filter { $0.1 == 0 }.map { Double($0.0) * Double($0.0) }.reduce(0, +)
            let all = parameter.values.map { Double($0) * Double($0) }.reduce(0, +)
            let change = try XCTUnwrap(layer.relativeChange, layer.layer)
            XCTAssertEqual(change, (removed / all).squareRoot(), accuracy: 1e-6, layer.layer)
            XCTAssertGreaterThan(change, 0, layer.layer)
            // The kept half are the largest weights, so B still points nearly A's way: cos = ||B|| / ||A||.
            let cosine = try XCTUnwrap(layer.cosine, layer.layer)
            XCTAssertLessThan(cosine, 1, layer.layer)
            XCTAssertEqual(cosine, ((all - removed) / all).squareRoot(), accuracy: 1e-6, layer.layer)
            XCTAssertEqual(layer.zeroShareB ?? 0, 0.5, accuracy: 0.01, layer.layer)
            XCTAssertEqual(layer.zeroShareA, 0, layer.layer)
        }
        // Every flip is an image the two classify differently, with the counts adding up.
        let set = trainer.dataset.test
        let predictionsA = Evaluator.evaluate(original, on: set).predictions, predictionsB = Evaluator.evaluate(pruned, on: set).predictions
        let expected = set.labels.indices.filter { predictionsA[$0] != predictionsB[$0] }
        XCTAssertEqual(result.flips.map(\.index), expected)
        XCTAssertEqual(result.count(.broken) + result.count(.fixed) + result.count(.changed), result.flips.count)
        XCTAssertEqual(result.scoreB.correct - result.scoreA.correct, result.count(.fixed) - result.count(.broken))
        for flip in result.flips {
            XCTAssertEqual(flip.label, set.label(flip.index))
            XCTAssertEqual(flip.predictionA, Int(predictionsA[flip.index]))
            XCTAssertEqual(flip.predictionB, Int(predictionsB[flip.index]))
            XCTAssert(flip.confidenceA >= 0.1 && flip.confidenceA <= 1 && flip.confidenceB >= 0.1 && flip.confidenceB <= 1)
        }
    }

    func testFilterPrunedLayersSayTheirShapesDiffer() throws {
        let trainer = try trained()
        let result = try FilterPruning.prune(trainer.network.copy(), fraction: 0.5)
        let comparison = try CheckpointComparison.compareWeights(.float(trainer.network), .float(result.network))
        let conv1 = try XCTUnwrap(comparison.layers.first { $0.layer == "conv1" })
        XCTAssertEqual(conv1.gap, .shapesDiffer)
        XCTAssertEqual(conv1.shapeA, [8, 3, 3, 3])
        XCTAssertEqual(conv1.shapeB, [4, 3, 3, 3])
        XCTAssertNil(conv1.relativeChange)
    }

    func testAnInt8CopyComparesWithBatchNormFoldedInAndChangesLittle() throws {
        let trainer = try trained()
        let calibration = QuantizedNetwork.calibrationBatches(trainer.dataset.test, count: 128)
        let quantized = QuantizedNetwork.quantize(trainer.network, calibration: calibration)
        let result = try XCTUnwrap(try CheckpointComparison.compare(.float(trainer.network), .int8(quantized), on: trainer.dataset.test))
        XCTAssertEqual(result.basis, .foldedBatchNorm)
        for layer in result.layers {
            // Rounding to 255 levels per output channel moves each weight by at most half a step: a small change.
            let change = try XCTUnwrap(layer.relativeChange, layer.layer)
            XCTAssertGreaterThan(change, 0, layer.layer)
            XCTAssertLessThan(change, 0.02, layer.layer)
            XCTAssertGreaterThan(layer.cosine ?? 0, 0.999, layer.layer)
        }
        // Against itself an int8 model changes nothing.
        let same = try CheckpointComparison.compareWeights(.int8(quantized), .int8(quantized))
        XCTAssertEqual(same.layers.compactMap(\.relativeChange), [0, 0, 0])
    }

    func testAnotherArchitectureComparesByPredictionsOnly() throws {
        let teacher = try trained()
        let student = try trained("conv4,relu,maxpool,conv4,relu,gap,fc10", seed: 2)
        let result = try XCTUnwrap(try CheckpointComparison.compare(.float(teacher.network), .float(student.network), on: teacher.dataset.test))
        XCTAssertFalse(result.comparedWeights)
        XCTAssertEqual(result.layers.map(\.gap), [.shapesDiffer, .shapesDiffer, .shapesDiffer])
        XCTAssertEqual(result.images, 300)
    }

    func testModelsThatShareNoLayerOrNoClassesAreRefused() throws {
        let a = Network(plan: try ModelPlan(spec: try ModelSpec("conv4,relu,gap,fc10")))
        let other = Network(plan: try ModelPlan(spec: try ModelSpec("flatten,fc10")))
        let fewer = Network(plan: try ModelPlan(spec: try ModelSpec("conv4,relu,gap,fc5"), classes: 5))
        let set = SyntheticDataset.generate(seed: 1, trainCount: 0, testCount: 20).test
        XCTAssertThrowsError(try CheckpointComparison.compare(.float(a), .float(fewer), on: set)) { error in
            XCTAssertEqual(error as? CheckpointComparisonError, .classCountsDiffer(a: 10, b: 5))
        }
        // A model without a classifier layer (`conv10,gap`) names nothing the way `flatten,fc10` does.
        let convolutional = Network(plan: try ModelPlan(spec: try ModelSpec("conv10,gap")))
        XCTAssertNoThrow(try CheckpointComparison.compareWeights(.float(a), .float(other)), "both have fc1")
        XCTAssertThrowsError(try CheckpointComparison.compareWeights(.float(other), .float(convolutional))) { error in
            XCTAssertEqual(error as? CheckpointComparisonError, .noSharedLayer(a: ["fc1"], b: ["conv1"]))
        }
    }

    func testAStopSignalEndsTheScoringEarly() throws {
        let trainer = try trained()
        let stop = StopSignal()
        stop.raise()
        XCTAssertNil(try CheckpointComparison.compare(.float(trainer.network), .float(trainer.network), on: trainer.dataset.test, stoppingWhen: stop))
    }
}
