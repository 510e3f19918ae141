@testable import ConvKit
import XCTest

/// Diff mode's values in the engine: the compression lab's pairs of a model then and now and its sparsity bars'
/// changes, and the sanity curve's change. The explanation board's change, drawn, is checked in ConvRenderTests
/// (`ExplanationBoardChangeTests`).
final class TimeScrubberChangeTests: XCTestCase {
    private func row(_ id: Int, _ method: CompressionMethod?, step: Int?, accuracy: Float?, zeros: [Int] = []) -> CompressionRow {
        let status = accuracy.map {
            CompressionRow.Status.measured(
                ModelReport(label: "", parameters: 100, nonZeroParameters: method == nil ? 100 : 70, modelBytes: 400, accuracy: $0, imagesPerSecond: 1000))
        } ?? .queued
        return CompressionRow(id: id, method: method, weightsVersion: step, status: status, sparsity: sparsity(zeros))
    }

    /// Two tensors of 100 and 50 values with `zeros` zeros each (none given: no tensors).
    private func sparsity(_ zeros: [Int]) -> [WeightSparsity] {
        zip(["conv1.weight", "fc.weight"], zip([100, 50], zeros)).map { WeightSparsity(parameter: $0, count: $1.0, zeros: $1.1) }
    }

    func testTheLabPairsEachModelsRowAtTheMarkWithItsNewestAndSaysWhatIsMissing() throws {
        let pruning = CompressionMethod.magnitudePruning(amount: 0.3)
        // The lab following the cursor measured float32 and pruning at step 5, then at step 9; int8 only at 9.
        let shown = CompressionResults(rows: [
            row(0, nil, step: 5, accuracy: 0.4), row(1, pruning, step: 5, accuracy: 0.35), row(2, nil, step: 9, accuracy: 0.6),
            row(3, pruning, step: 9, accuracy: 0.5), row(4, .int8(calibrationImages: 64), step: 9, accuracy: 0.58),
        ])
        // The lab at the mark (step 5) has nothing of its own yet: the rows the cursor measured there are used.
        let change = shown.change(since: CompressionResults(), markedStep: 5)
        XCTAssertEqual(change.pairs.map(\.label), ["float32", "pruned 30%", "int8"])
        XCTAssertEqual(change.pairs.map(\.then?.id), [0, 1, nil])
        XCTAssertEqual(change.pairs.map(\.now.id), [2, 3, 4])
        XCTAssertEqual(change.missing, [.int8(calibrationImages: 64)])
        let delta = try XCTUnwrap(change.pairs[1].change)
        XCTAssertEqual(delta.accuracy, Float(0.5) - Float(0.35))
        XCTAssertEqual(delta.parameters, 0)
        XCTAssertNil(change.pairs[2].change)

        // Once the marked lab queues int8, that row is the pair's, and nothing is missing.
        let marked = CompressionResults(rows: [row(0, .int8(calibrationImages: 64), step: nil, accuracy: nil)])
        let queued = shown.change(since: marked, markedStep: 5)
        XCTAssertEqual(queued.pairs[2].then?.status, .queued)
        XCTAssertEqual(queued.missing, [])
        // A row the marked lab measured at an older mark is not this mark's.
        let old = CompressionResults(rows: [row(0, .int8(calibrationImages: 64), step: 2, accuracy: 0.3)])
        XCTAssertEqual(shown.change(since: old, markedStep: 5).missing, [.int8(calibrationImages: 64)])
    }

    func testTheSparsityBarsCompareTheNewestCompressedModelAtBothTimesElseTheWeightsThemselves() throws {
        let pruning = CompressionMethod.magnitudePruning(amount: 0.3), filters = CompressionMethod.filterPruning(fraction: 0.25)
        // Before any compressed model is measured at both times: the weights themselves, once the marked lab has read
        // them at this mark.
        var shown = CompressionResults(rows: [row(0, nil, step: 9, accuracy: 0.6)], currentSparsity: sparsity([2, 0]), currentVersion: 9)
        let unread = shown.change(since: CompressionResults(), markedStep: 5)
        XCTAssertNil(unread.shownSparsity.pair)
        XCTAssertEqual(unread.shownSparsity.tensors, [], "the marked time's weights are not read yet")
        let otherMark = CompressionResults(currentSparsity: sparsity([0, 0]), currentVersion: 4)
        XCTAssertEqual(shown.change(since: otherMark, markedStep: 5).shownSparsity.tensors, [], "a reading of another mark is not this one's")
        let marked = CompressionResults(currentSparsity: sparsity([1, 5]), currentVersion: 5)
        let weights = shown.change(since: marked, markedStep: 5)
        XCTAssertNil(weights.shownSparsity.pair)
        XCTAssertEqual(weights.weightsVersion, 9)
        XCTAssertEqual(weights.shownSparsity.tensors.map(\.parameter), ["conv1.weight", "fc.weight"])
        XCTAssertEqual(weights.shownSparsity.tensors.map(\.then), [0.01, 0.1])
        XCTAssertEqual(weights.shownSparsity.tensors.map(\.now), [0.02, 0])
        XCTAssertEqual(weights.shownSparsity.tensors[1].change, -0.1, accuracy: 1e-6)

        // Pruning measured at both times, filter pruning only now: the bars are pruning's, then against now.
        shown.rows += [row(1, pruning, step: 9, accuracy: 0.5, zeros: [30, 20]), row(2, filters, step: 9, accuracy: 0.4, zeros: [0, 0])]
        let atMark = CompressionResults(
            rows: [row(0, nil, step: 5, accuracy: 0.4), row(1, pruning, step: 5, accuracy: 0.3, zeros: [30, 15])],
            currentSparsity: sparsity([1, 5]), currentVersion: 5)
        let pruned = shown.change(since: atMark, markedStep: 5)
        XCTAssertEqual(pruned.shownSparsity.pair?.label, "pruned 30%")
        XCTAssertEqual(pruned.shownSparsity.tensors.map(\.change), [0, Float(20) / 50 - Float(15) / 50])
    }

    func testTheSanityCurvesChangeIsEachLayersScoresNowMinusThenAsFarAsBothAreDone() throws {
        let request = SanityRequest(imageIndex: 3, layer: "conv2", method: .activation(.gradCAM))
        let layers = ["fc", "conv2", "conv1"]
        func curve(step: Int, _ scores: [(Double, Double)], progress: Double? = nil, error: String? = nil) -> SanityCurve {
            var curve = SanityCurve(request: request, weightsVersion: step, layers: layers, progress: progress)
            curve.points = zip(layers, scores).map { SanityCurve.Point(layer: $0, spearman: $1.0, ssim: $1.1) }
            curve.error = error
            return curve
        }
        let then = curve(step: 2, [(0.9, 0.8), (0.5, 0.4), (0.1, 0.2)])
        let now = curve(step: 7, [(0.2, 0.3), (-0.4, 0.1), (-0.1, -0.3)])
        let change = now.change(since: then)
        XCTAssertEqual(change.since, 2)
        XCTAssertEqual(change.weightsVersion, 7)
        XCTAssertEqual(change.request, request)
        XCTAssertEqual(change.layers, layers)
        XCTAssertEqual(change.points.map(\.layer), layers)
        for (point, expected) in zip(change.points, [(-0.7, -0.5), (-0.9, -0.3), (-0.2, -0.5)]) {
            XCTAssertEqual(point.spearman, expected.0, accuracy: 1e-12, point.layer)
            XCTAssertEqual(point.ssim, expected.1, accuracy: 1e-12, point.layer)
        }
        XCTAssertTrue(change.isComplete)
        XCTAssertNil(now.since, "a curve of one time has no mark")

        // While the marked curve is computing, the change covers the layers both have done and carries its progress.
        let computing = curve(step: 2, [(0.9, 0.8)], progress: 0.4)
        let partial = now.change(since: computing)
        XCTAssertEqual(partial.points.map(\.layer), ["fc"])
        XCTAssertEqual(partial.progress, 0.4)
        XCTAssertFalse(partial.isComplete)
        // An error at either time is the change's.
        XCTAssertEqual(now.change(since: curve(step: 2, [], error: "no gap")).error, "no gap")
    }
}
