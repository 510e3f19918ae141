@testable import ConvKit
import ConvRender
import XCTest

/// Diff mode on the explanation board: each map's change since a marked time, subtracted on the scale the maps
/// are drawn at (ConvKit's `ExplanationBoard.change(since:)`) and coloured on the diverging palette at a fixed
/// scale (`heatmap(of:)`), and the scores' changes.
final class ExplanationBoardChangeTests: XCTestCase {
    private func board(step: Int, entries: [ExplanationBoard.Entry], progress: ExplanationBoard.Progress? = nil) -> ExplanationBoard {
        var board = ExplanationBoard(
            request: ExplanationRequest(imageIndex: 3, layer: "conv2", methods: [.activation(.gradCAM), .pixel(.integratedGradients)]),
            weightsVersion: step, image: RGBImage(width: 32, height: 32, pixels: [UInt8](repeating: 90, count: 32 * 32 * 3)), label: 1,
            classIndex: 2, probability: step == 0 ? 0.1 : 0.7, predicted: 2)
        board.entries = entries
        board.progress = progress
        return board
    }

    private func entry(_ method: ExplanationMethod, _ explanation: Explanation, deletion: Double) -> ExplanationBoard.Entry {
        var scores = FaithfulnessScores(deletion: deletion, insertion: 0.5, roadMostRelevantFirst: 0.4, roadLeastRelevantFirst: 0.6, drop: 20, increase: 0)
        scores.insertion += deletion
        return .init(method: method, baseline: nil, explanation: explanation, layer: nil, scores: scores, error: nil, scaledMap: explanation.scaledMap(size: 32))
    }

    private func cam(_ values: [Float]) -> Explanation {
        .activation(ActivationMap(layer: "conv2", classIndex: 2, method: .gradCAM, width: 2, height: 2, values: values, logits: [0, 0, 1]))
    }

    private func pixels(_ perPixel: (Int) -> Float) -> Explanation {
        .pixel(PixelAttribution(
            method: .integratedGradients, classIndex: 2, width: 32, height: 32, channels: 1, attribution: (0..<1024).map(perPixel), logits: [0, 0, 1]))
    }

    func testAMapThatOnlyGrewShowsNoChangeAndAMovedOneShowsWhereItFellAndRose() throws {
        // Then the evidence is on the left column; now the same pattern ten times stronger, on the right column.
        let then = board(step: 0, entries: [entry(.activation(.gradCAM), cam([1, 0, 1, 0]), deletion: 0.3)])
        let grown = board(step: 9, entries: [entry(.activation(.gradCAM), cam([10, 0, 10, 0]), deletion: 0.3)])
        let moved = board(step: 9, entries: [entry(.activation(.gradCAM), cam([0, 1, 0, 1]), deletion: 0.1)])

        let same = try XCTUnwrap(grown.change(since: then).entries.first)
        XCTAssertNil(same.scaledMap, "a change is no map of one time")
        XCTAssertEqual(same.mapChange?.values.allSatisfy { $0 == 0 }, true, "a map that only grew as a whole has not changed")
        let white = try XCTUnwrap(grown.change(since: then).heatmap(of: same))
        XCTAssertTrue(white.pixels.allSatisfy { $0 > 230 }, "unchanged is the diverging palette's white middle")

        let change = moved.change(since: then)
        XCTAssertEqual(change.since, 0)
        XCTAssertEqual(change.weightsVersion, 9)
        XCTAssertEqual(change.probability, 0.7, "the image, class and probability stay the time shown's")
        let entry = try XCTUnwrap(change.entries.first)
        let now = try XCTUnwrap(moved.entries[0].scaledMap), before = try XCTUnwrap(then.entries[0].scaledMap)
        XCTAssertEqual(entry.mapChange?.values, zip(now.values, before.values).map { $0 - $1 })
        let heat = try XCTUnwrap(change.heatmap(of: entry))
        func pixel(_ x: Int, _ y: Int) -> (Int, Int, Int) {
            let i = 3 * (y * 32 + x)
            return (Int(heat.pixels[i]), Int(heat.pixels[i + 1]), Int(heat.pixels[i + 2]))
        }
        XCTAssertGreaterThan(pixel(0, 16).2, pixel(0, 16).0 + 100, "the left edge lost the evidence: blue")
        XCTAssertGreaterThan(pixel(31, 16).0, pixel(31, 16).2 + 100, "the right edge gained it: red")
        XCTAssertEqual(entry.scores?.deletion ?? 0, 0.1 - 0.3, accuracy: 1e-12)
        XCTAssertEqual(entry.scores?.insertion ?? 0, (0.5 + 0.1) - (0.5 + 0.3), accuracy: 1e-12)
        XCTAssertEqual(entry.scores?.drop, 0)
    }

    func testSignedMapsChangeOnTheirOwnSpanAndAMapOnlyOneBoardHasWaits() throws {
        // Integrated Gradients: -1 everywhere then, +1 everywhere now: the largest change a signed map can make.
        let then = board(step: 0, entries: [entry(.pixel(.integratedGradients), pixels { _ in -1 }, deletion: 0.2)])
        let now = board(
            step: 9,
            entries: [entry(.pixel(.integratedGradients), pixels { _ in 1 }, deletion: 0.2), entry(.activation(.gradCAM), cam([1, 0, 0, 0]), deletion: 0.2)])
        let change = now.change(since: then)
        XCTAssertEqual(change.entries.map(\.method), [.pixel(.integratedGradients)], "Grad-CAM waits for the marked time's map")
        let heat = try XCTUnwrap(change.heatmap(of: change.entries[0]))
        let red = Colormap.diverging.entry(255)
        XCTAssertEqual([heat.pixels[0], heat.pixels[1], heat.pixels[2]], [red.0, red.1, red.2], "from one end of the scale to the other")

        // The board is complete once both are; while the marked one computes, its progress shows, named by its step.
        let computing = board(step: 0, entries: [], progress: ExplanationBoard.Progress(title: "RISE", done: 1, total: 8, fraction: 0.5))
        XCTAssertEqual(now.change(since: computing).progress?.title, "RISE at step 0")
        XCTAssertTrue(now.change(since: then).isComplete)
    }
}
