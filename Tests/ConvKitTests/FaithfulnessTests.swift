import Foundation
import XCTest
@testable import ConvKit

/// The faithfulness scoreboard: its pieces on values worked out by hand, and its verdict on maps whose
/// quality is known.
final class FaithfulnessTests: XCTestCase {
    func testNoisyLinearImputationRecoversALinearImageWithoutNoise() {
        // A plane a + b x + c y is its own neighbour average under ROAD's symmetric weights, so the
        // removed pixels come back exactly when they are surrounded by kept ones.
        let width = 8, height = 8
        let image = (0..<(width * height)).flatMap { p -> [Float] in
            let x = Float(p % width), y = Float(p / width)
            return [0.5 + 0.25 * x - 0.125 * y, -1 + 0.1 * y, 2]
        }
        let removed = [2 * width + 2, 2 * width + 3, 3 * width + 3, 5 * width + 4, 4 * width + 5]
        var random = RandomSource(seed: 1)
        let imputed = FaithfulnessScorer.noisyLinearImputation(
            image, removed: removed, width: width, height: height, channels: 3, noise: 0, random: &random)
        for (a, b) in zip(imputed, image) { XCTAssertEqual(a, b, accuracy: 1e-4) }
    }

    func testTheStandardErrorIsTheSampleDeviationOverTheSquareRootOfTheCount() throws {
        func scores(_ value: Double) -> FaithfulnessScores {
            FaithfulnessScores(
                deletion: value, insertion: 2 * value, roadMostRelevantFirst: 0.5, roadLeastRelevantFirst: -value, drop: 100 * value,
                increase: value > 1.5 ? 1 : 0)
        }
        let error = try XCTUnwrap(FaithfulnessScores.standardError([scores(1), scores(2), scores(3)]))
        // Values 1, 2, 3: sample deviation 1, so the error of the mean is 1 / sqrt(3).
        let third = 1 / 3.0.squareRoot()
        XCTAssertEqual(error.deletion, third, accuracy: 1e-12)
        XCTAssertEqual(error.insertion, 2 * third, accuracy: 1e-12)
        XCTAssertEqual(error.roadMostRelevantFirst, 0, "a score equal on every image has no spread")
        XCTAssertEqual(error.roadLeastRelevantFirst, third, accuracy: 1e-12)
        XCTAssertEqual(error.drop, 100 * third, accuracy: 1e-9)
        // Increase 0, 1, 1: deviation sqrt(1/3), error sqrt(1/3) / sqrt(3) = 1/3.
        XCTAssertEqual(error.increase, 1 / 3.0, accuracy: 1e-12)
        XCTAssertNil(FaithfulnessScores.standardError([scores(1)]), "one image has no spread to measure")
    }

    func testTrapezoidArea() {
        XCTAssertEqual(FaithfulnessScorer.area([1, 1, 1]), 1)
        XCTAssertEqual(FaithfulnessScorer.area([1, 0]), 0.5)
        XCTAssertEqual(FaithfulnessScorer.area([0, 1, 0, 1, 0]), 0.5)
    }

    func testAFlatMapKeepsTheImageForAverageDropAndTheBaselinesHaveTheirShapes() throws {
        let (inspector, dataset) = try trainedInspector()
        inspector.run(BatchAssembler().tensor(dataset.test, index: 0, into: FloatBuffer()))
        let scores = try FaithfulnessScorer().scores(inspector: inspector, map: [Float](repeating: 3, count: 1024), classIndex: inspector.predictedClass)
        XCTAssertEqual(scores.drop, 0)
        XCTAssertEqual(scores.increase, 0)
        for value in [scores.deletion, scores.insertion, scores.roadMostRelevantFirst, scores.roadLeastRelevantFirst] {
            XCTAssertTrue((0...1).contains(value), "\(scores)")
        }
        // Sobel on an image with one vertical edge: strong at the edge, zero in flat areas.
        let image = (0..<1024).flatMap { p -> [Float] in p % 32 < 16 ? [0, 0, 0] : [1, 1, 1] }
        let sobel = BaselineMap.sobel.map(image: image, width: 32, height: 32, channels: 3, seed: 0)
        XCTAssertEqual(sobel[10 * 32 + 5], 0)
        XCTAssertEqual(sobel[10 * 32 + 15], 4, accuracy: 1e-6)
        XCTAssertEqual(BaselineMap.random.map(image: image, width: 32, height: 32, channels: 3, seed: 4),
                       BaselineMap.random.map(image: image, width: 32, height: 32, channels: 3, seed: 4), "seeded")
    }

    func testAMapThatKeepsTheWholeImageNeitherRaisesNorDropsTheConfidence() throws {
        // The masked image of a flat map is the image itself, and so is that of a map that is lowest only where
        // the image is already 0 (scaled to [0, 1], it multiplies every other pixel by 1): the model's answer
        // cannot rise or fall: on whichever kernel path runs, for several images and classes.
        let (inspector, dataset) = try trainedInspector()
        let zeroed = [0, 33, 500, 1023]
        for index in 0..<8 {
            let image = BatchAssembler().tensor(dataset.test, index: index, into: FloatBuffer())
            for p in zeroed { for c in 0..<3 { image.sample(0)[p * 3 + c] = 0 } }
            inspector.run(image)
            let pixels = Array(image.elements)
            let constant = BaselineMap.constant.map(image: pixels, width: 32, height: 32, channels: 3, seed: 0)
            var lowWhereBlack = [Float](repeating: 2, count: 1024)
            for p in zeroed { lowWhereBlack[p] = -1 }
            for classIndex in [inspector.predictedClass, (inspector.predictedClass + 3) % 10] {
                for (name, map) in [("constant", constant), ("low where black", lowWhereBlack)] {
                    let scores = try FaithfulnessScorer().scores(inspector: inspector, map: map, classIndex: classIndex)
                    XCTAssertEqual(scores.increase, 0, "image \(index), class \(classIndex), \(name) map on the \(KernelPath.active) path")
                    XCTAssertEqual(scores.drop, 0, "image \(index), class \(classIndex), \(name) map on the \(KernelPath.active) path")
                }
            }
        }
    }

    func testTheOcclusionMapDeletesFasterThanItsReverse() throws {
        // Occlusion measures exactly what deletion removes: ranking by it must take the probability
        // down sooner than ranking by its opposite, on average over images (each image alone could tie).
        let (inspector, dataset) = try trainedInspector()
        var forward = 0.0, reverse = 0.0
        for index in 0..<6 {
            inspector.run(BatchAssembler().tensor(dataset.test, index: index, into: FloatBuffer()))
            let target = inspector.predictedClass
            let map = try inspector.explain(.pixel(.occlusion), classIndex: target).map(width: 32, height: 32)
            forward += try FaithfulnessScorer().scores(inspector: inspector, map: map, classIndex: target).deletion
            reverse += try FaithfulnessScorer().scores(inspector: inspector, map: map.map { -$0 }, classIndex: target).deletion
        }
        XCTAssertLessThan(forward, reverse, "occlusion order \(forward / 6) vs reversed \(reverse / 6)")
    }

    private func trainedInspector() throws -> (Inspector, Dataset) {
        let dataset = SyntheticDataset.generate(seed: 21, trainCount: 512, testCount: 16)
        let trainer = try Trainer(config: TrainingConfig(model: "conv8,bn,relu,maxpool,conv16,bn,relu,gap,fc10", epochs: 2, batchSize: 32, seed: 4), dataset: dataset)
        for _ in 0..<24 { trainer.step() }
        return (Inspector(network: trainer.network.copy()), dataset)
    }
}

/// The randomisation sanity check: its similarity measures, and its verdict on methods whose answer
/// is known.
final class SanityCheckTests: XCTestCase {
    func testSpearmanAndSSIMOnKnownMaps() {
        let ramp = (0..<1024).map { Float($0 % 32) }
        XCTAssertEqual(SanityCheck.spearman(ramp, ramp.map { 2 * $0 + 1 }), 1, accuracy: 1e-9, "monotone: rank correlation 1")
        XCTAssertEqual(SanityCheck.spearman(ramp, ramp.map { -$0 }), -1, accuracy: 1e-9)
        XCTAssertEqual(SanityCheck.spearman(ramp, [Float](repeating: 1, count: 1024)), 0, "a flat map has no ranking")
        XCTAssertEqual(SanityCheck.ssim(ramp, ramp.map { 3 * $0 }, width: 32, height: 32), 1, accuracy: 1e-9, "same after scaling")
        let checker = (0..<1024).map { Float(($0 % 32 + $0 / 32) % 2) }
        XCTAssertLessThan(SanityCheck.ssim(ramp, checker, width: 32, height: 32), 0.2)
    }

    func testRandomisingTheWeightsChangesGradCAMButNotTheTrainedNetwork() throws {
        let dataset = SyntheticDataset.generate(seed: 21, trainCount: 512, testCount: 8)
        let trainer = try Trainer(config: TrainingConfig(model: "conv8,bn,relu,maxpool,conv16,bn,relu,gap,fc10", epochs: 2, batchSize: 32, seed: 4), dataset: dataset)
        for _ in 0..<24 { trainer.step() }
        let before = trainer.network.parameters.map { Array($0.values) }
        let image = BatchAssembler().tensor(dataset.test, index: 1, into: FloatBuffer())
        let check = try SanityCheck.run(
            network: trainer.network, image: image, layer: "relu2", methods: [.activation(.gradCAM)], mode: .cascading, seed: 5)
        XCTAssertEqual(check.steps.map(\.layer), ["fc1", "conv2", "conv1"], "top first")
        // With every layer random, nothing of the trained map's structure is left to find by chance:
        // Grad-CAM (which passes Adebayo's test) loses most of its agreement.
        XCTAssertLessThan(check.steps.last!.spearman[0], 0.9, "\(check.steps.map(\.spearman))")
        XCTAssertEqual(trainer.network.parameters.map { Array($0.values) }, before, "the run's weights are untouched")
    }
}
