import ConvKit
import ConvPresent
import XCTest

/// The engine publishes events as values; the app words them on its status line. These are the words
/// users (and the tmux tests) see.
final class SessionEventTextTests: XCTestCase {
    private let divergence = Divergence(
        quantity: .loss, value: .nan, epoch: 1, step: 5, stepsPerEpoch: 78, globalStep: 5, learningRate: 376,
        peakLearningRate: 400, restoredEpoch: 0, restoredStep: 0, restoredGlobalStep: 0)
    private let truncated = RunWatchProblem.skipped(RunDirectoryIssue(file: "checkpoints/a", reason: "is truncated"))

    func testEachEventHasItsStatusLine() {
        let cases: [(SessionEvent, String, Bool)] = [
            (.learningRateScaled(scale: 1.25), "learning rate x1.25 of the schedule", false),
            (.learningRateScaled(scale: 0.8 * 0.8 * 0.8), "learning rate x0.512 of the schedule", false),
            (.saved(path: "runs/a.safetensors"), "saved checkpoint runs/a.safetensors", false),
            (.saveFailed(path: "missing/run.safetensors", reason: "cannot write 'missing/run.safetensors'"),
             "save failed: cannot write 'missing/run.safetensors'", true),
            (.finished(epochs: 3), "training finished: 3 epochs; keep exploring, s saves", false),
            (.diverged(divergence), DivergenceText.app(divergence), true),
            (.checkpointLoaded(file: "checkpoints/step-000000004.safetensors", step: 4),
             "loaded checkpoints/step-000000004.safetensors (step 4)", false),
            (.skipped(problems: [truncated]), "checkpoints/a is truncated", true),
            (.skipped(problems: [truncated, .shownCheckpointRemoved(file: "checkpoints/b"), .historySetAside(problem: "c")]),
             "checkpoints/a is truncated (and 2 more)", true),
        ]
        for (event, line, isError) in cases {
            XCTAssertEqual(SessionEventText.statusLine(event), line)
            XCTAssertEqual(SessionEventText.isError(event), isError, line)
        }
        XCTAssertTrue(SessionEventText.statusLine(.diverged(divergence)).hasPrefix("diverged at epoch 1, step 5/78 (lr 376): training loss NaN"))
    }

    func testAWatchersProblemsNameTheFileAndWhatWasDone() {
        let cases: [(RunWatchProblem, String)] = [
            (.skipped(RunDirectoryIssue(file: "metrics.jsonl", line: 3, reason: "is not JSON: skipped")), "metrics.jsonl line 3 is not JSON: skipped"),
            (.shownCheckpointRemoved(file: "checkpoints/step-000000008.safetensors"),
             "checkpoints/step-000000008.safetensors was removed; its weights stay shown until a newer checkpoint arrives"),
            (.historySetAside(problem: "weight history 'x.history.safetensors' is not a safetensors file"),
             "weight history 'x.history.safetensors' is not a safetensors file; the earlier checkpoints are the times instead"),
        ]
        for (problem, line) in cases { XCTAssertEqual(RunWatchProblemText.line(problem), line) }
    }
}
