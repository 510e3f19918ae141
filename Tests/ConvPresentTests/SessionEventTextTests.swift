import ConvKit
import ConvPresent
import XCTest

/// The engine publishes events as values; the app words them on its status line. These are the words
/// users (and the tmux tests) see.
final class SessionEventTextTests: XCTestCase {
    private let divergence = Divergence(
        quantity: .loss, value: .nan, epoch: 1, step: 5, stepsPerEpoch: 78, globalStep: 5, learningRate: 376,
        peakLearningRate: 400, restoredEpoch: 0, restoredStep: 0, restoredGlobalStep: 0)
    private let truncated = RunWatchProblem.skipped(RunDirectoryIssue(file: "checkpoints/a", problem: .trailingBytes(3)))

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
            (.skipped(problems: [truncated]), "checkpoints/a has 3 bytes after its last tensor: skipped", true),
            (.skipped(problems: [truncated, .shownCheckpointRemoved(file: "checkpoints/b"), .historySetAside(problem: "c")]),
             "checkpoints/a has 3 bytes after its last tensor: skipped (and 2 more)", true),
        ]
        for (event, line, isError) in cases {
            XCTAssertEqual(SessionEventText.statusLine(event), line)
            XCTAssertEqual(SessionEventText.isError(event), isError, line)
        }
        XCTAssertTrue(SessionEventText.statusLine(.diverged(divergence)).hasPrefix("diverged at epoch 1, step 5/78 (lr 376): training loss NaN"))
    }

    func testAWatchersProblemsNameTheFileAndWhatWasDone() {
        let cases: [(RunWatchProblem, String)] = [
            (.skipped(RunDirectoryIssue(file: "metrics.jsonl", line: 3, problem: .lineTooLong(limit: 1 << 20))),
             "metrics.jsonl line 3 is longer than 1048576 bytes: skipped"),
            (.shownCheckpointRemoved(file: "checkpoints/step-000000008.safetensors"),
             "checkpoints/step-000000008.safetensors was removed; its weights stay shown until a newer checkpoint arrives"),
            (.historySetAside(problem: "weight history 'x.history.safetensors' is not a safetensors file"),
             "weight history 'x.history.safetensors' is not a safetensors file; the earlier checkpoints are the times instead"),
        ]
        for (problem, line) in cases { XCTAssertEqual(RunWatchProblemText.line(problem), line) }
    }

    func testARunDirectoryIssueNamesTheFileWhatIsWrongAndWhatWasDone() {
        let cases: [(RunDirectoryIssue, String)] = [
            (RunDirectoryIssue(file: "metrics.jsonl", problem: .shrank(size: 20, read: 33)),
             "metrics.jsonl shrank to 20 bytes from the 33 read: reading it again from the start"),
            (RunDirectoryIssue(file: "checkpoints/step-000000390.safetensors", problem: .truncatedData(needed: 97664, available: 4096)),
             "checkpoints/step-000000390.safetensors is truncated: its tensors need 97664 bytes of data but only 4096 follow the header: skipped"),
            (RunDirectoryIssue(file: "checkpoints/x.safetensors", problem: .otherModel(found: "tiny", shown: "simple")),
             "checkpoints/x.safetensors holds the model tiny, not the simple shown: skipped (watch it in another window)"),
            (RunDirectoryIssue(file: "run.json", problem: .newerManifest(version: 3, readerVersion: 1)),
             "run.json is format version 3, newer than the 1 this ConvScope reads: what is new is ignored"),
            (RunDirectoryIssue(file: "checkpoints/a\nb.safetensors", problem: .tensorWithoutOffsets(tensor: "w\t")),
             "checkpoints/a\\nb.safetensors is not a safetensors file (tensor 'w\\t' has no data_offsets): skipped"),
        ]
        for (issue, line) in cases {
            XCTAssertEqual(RunDirectoryIssueText.line(issue), line)
            XCTAssertEqual(RunWatchProblemText.line(.skipped(issue)), line)
        }
    }
}
