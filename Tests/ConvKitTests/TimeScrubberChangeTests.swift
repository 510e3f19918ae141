@testable import ConvKit
import XCTest

/// Diff mode's values in the engine: the compression lab's pairs of a model then and now. The explanation
/// board's change, drawn, is checked in ConvRenderTests (`ExplanationBoardChangeTests`).
final class TimeScrubberChangeTests: XCTestCase {
    private func row(_ id: Int, _ method: CompressionMethod?, step: Int?, accuracy: Float?) -> CompressionRow {
        let status = accuracy.map {
            CompressionRow.Status.measured(
                ModelReport(label: "", parameters: 100, nonZeroParameters: method == nil ? 100 : 70, modelBytes: 400, accuracy: $0, imagesPerSecond: 1000))
        } ?? .queued
        return CompressionRow(id: id, method: method, weightsVersion: step, status: status)
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
}
