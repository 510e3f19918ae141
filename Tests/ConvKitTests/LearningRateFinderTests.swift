import Foundation
import XCTest
import ConvKit

/// The learning-rate range test: its geometric rates, its stop at a blow-up, its suggestion, and that it
/// leaves a model it was not given alone.
final class LearningRateFinderTests: XCTestCase {
    private let dataset = SyntheticDataset.generate(seed: 7, trainCount: 2048, testCount: 64)
    private let config = TrainingConfig(model: "tiny", epochs: 1, batchSize: 32, learningRate: 0.05, seed: 2)

    func testRatesGrowGeometricallyFromStartToEnd() {
        let finder = LearningRateFinder(start: 1e-4, end: 1, steps: 5)
        XCTAssertEqual(finder.rate(at: 0), 1e-4, accuracy: 1e-9)
        XCTAssertEqual(finder.rate(at: 2), 1e-2, accuracy: 1e-6)
        XCTAssertEqual(finder.rate(at: 4), 1, accuracy: 1e-5)
    }

    func testTheTestStopsWhenTheLossBlowsUpAndSuggestsARateBelowIt() throws {
        let network = try Trainer(config: config, dataset: dataset).network
        let before = network.parameters.flatMap { $0.value.array($0.count) }
        let result = LearningRateFinder(start: 1e-5, end: 1e4, steps: 60).run(config: config, dataset: dataset, network: network.copy())
        XCTAssertEqual(network.parameters.flatMap { $0.value.array($0.count) }, before, "a copy was trained, not the network")
        XCTAssertTrue(result.stoppedEarly, "rates up to 1e4 blow any network up")
        XCTAssertLessThan(result.points.count, 60)
        XCTAssertTrue(result.points.allSatisfy { $0.loss.isFinite && $0.smoothedLoss.isFinite })
        XCTAssertEqual(result.points.map(\.rate), result.points.map(\.rate).sorted())
        let suggested = try XCTUnwrap(result.suggestedRate)
        let lowest = result.points.min { $0.smoothedLoss < $1.smoothedLoss }!
        XCTAssertEqual(suggested, lowest.rate / 10, accuracy: lowest.rate * 1e-5)
        XCTAssertGreaterThan(suggested, 1e-5)
        XCTAssertLessThan(suggested, result.points.last!.rate)
        // The loss falls from its start somewhere in the range: the minimum is below the first smoothed value.
        XCTAssertLessThan(lowest.smoothedLoss, result.points[0].smoothedLoss)
    }

    func testTheSuggestionIsATenthOfTheMinimumAndNeedsOne() {
        func points(_ losses: [Float]) -> [LearningRateFinder.Point] {
            losses.enumerated().map { LearningRateFinder.Point(rate: pow(10, Float($0.offset) - 4), loss: $0.element, smoothedLoss: $0.element) }
        }
        // Rates 1e-4, 1e-3, ..., 1e1; the lowest loss at 1, the steepest fall between 1e-2 and 1e-1.
        let curve = points([2.3, 2.3, 2.2, 1.2, 1.0, 3.0])
        XCTAssertEqual(LearningRateFinder.suggestion(curve)!, 0.1, accuracy: 1e-6)
        XCTAssertEqual(LearningRateFinder.steepest(curve)!, 0.1, accuracy: 1e-6)
        XCTAssertNil(LearningRateFinder.suggestion(points([2.3, 2.2, 2.1])), "still falling at the end: no minimum seen")
        XCTAssertNil(LearningRateFinder.suggestion(points([2.3, 2.2])), "too few points")
    }
}
