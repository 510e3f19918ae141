import ConvKit
import Foundation
import TestSupport
import XCTest

/// The time scrubber end to end: `train` keeps weight snapshots beside its checkpoint, `snapshots` lists them and
/// writes one out as a checkpoint the other commands read, and in the app `[` `]` `\` move every view's time
/// while training goes on, `t` marks a time for diff mode, and an explored checkpoint brings its history, at 80x24.
final class TimeScrubberEndToEndTests: XCTestCase {
    private var temporary: TemporaryFolder!
    private var folder: String { temporary.path }
    private var driver: TmuxDriver?

    override func setUpWithError() throws {
        temporary = try TemporaryFolder("scrubber-e2e")
    }

    override func tearDown() {
        driver?.close()
        temporary = nil
    }

    func testTrainKeepsSnapshotsAndTheCommandLineReproducesAnyTime() throws {
        let checkpoint = folder + "/run.safetensors"
        let train = try Convscope.run(["train", "--data", "synthetic", "--model", "tiny", "--epochs", "2", "--checkpoint", checkpoint])
        XCTAssertEqual(train.status, 0, train.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint + ".history.safetensors"))

        let list = try Convscope.run(["snapshots", "--checkpoint", checkpoint])
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertTrue(list.stdout.contains("snapshots in \(checkpoint).history.safetensors"), list.stdout)
        let json = try Convscope.run(["snapshots", "--checkpoint", checkpoint, "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let snapshots = try XCTUnwrap(object["snapshots"] as? [[String: Any]])
        let steps = snapshots.compactMap { $0["step"] as? Int }
        XCTAssertTrue(steps.starts(with: [0, 10]) && steps.contains(100) && steps.count == 5, "steps 0, 10, 100 and both epochs' ends: \(steps)")
        XCTAssertEqual(snapshots.filter { $0["test_acc"] != nil }.count, 2, "both epoch ends keep their evaluation")

        // Step 0 as a checkpoint of its own: eval reads it, and it is the untrained model.
        let start = folder + "/start.safetensors"
        let extract = try Convscope.run(["snapshots", "--checkpoint", checkpoint, "--extract", "0", "--out", start])
        XCTAssertEqual(extract.status, 0, extract.stderr)
        let before = try Convscope.run(["eval", "--data", "synthetic", "--checkpoint", start])
        let after = try Convscope.run(["eval", "--data", "synthetic", "--checkpoint", checkpoint])
        XCTAssertEqual(before.status, 0, before.stderr)
        XCTAssertEqual(after.status, 0, after.stderr)
        XCTAssertNotEqual(before.stdout, after.stdout)

        let missing = try Convscope.run(["snapshots", "--checkpoint", checkpoint, "--extract", "7", "--out", folder + "/x.safetensors"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("has no snapshot at step 7"), missing.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder + "/x.safetensors"))
        let bad = try Convscope.run(["train", "--data", "synthetic", "--model", "tiny", "--snapshot-budget=-1"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--snapshot-budget -1"), bad.stderr)

        // A damaged history: the run still resumes, with a one-line warning.
        try Data("not a history".utf8).write(to: URL(fileURLWithPath: checkpoint + ".history.safetensors"))
        let resumed = try Convscope.run(["train", "--data", "synthetic", "--model", "tiny", "--epochs", "3", "--checkpoint", checkpoint, "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let warning = try XCTUnwrap(resumed.stderr.components(separatedBy: "\n").first { $0.contains("weight history") }, resumed.stderr)
        XCTAssertTrue(warning.contains("the time scrubber starts without it"), warning)
    }

    func testTheAppScrubsEveryViewWhileTrainingGoesOnAndExploresTheSavedHistory() throws {
        try TmuxDriver.requireTmux()
        let binary = try TmuxDriver.binary()
        let tmux = try TmuxDriver(width: 80, height: 24)
        driver = tmux
        try tmux.type("cd \(folder) && \(binary) --data synthetic --model tiny --epochs 30 --checkpoint run.safetensors; echo EXIT=$?")
        try tmux.waitFor(text: "RUNNING")
        try tmux.press("5")
        // Live after the first epoch: the matrix of the latest evaluation.
        let live = try tmux.waitFor("the first epoch's matrix", timeout: 60) { $0.contains { $0.contains("epoch 1: test accuracy") || $0.contains("epoch 2: test accuracy") } }
        XCTAssertFalse(live[1].contains("◂ time:"))
        // Back to the initialisation: the header says so, the matrix becomes step 0's (evaluated on a copy).
        try tmux.press([String](repeating: "[", count: 40))
        let past = try tmux.waitFor("step 0's matrix", timeout: 60) { screen in
            screen[1].contains("◂ time: epoch 0 step 0") && screen.contains { $0.contains("test accuracy") && !$0.contains("epoch ") }
        }
        XCTAssertTrue(past[1].contains("live ▸"), past[1])
        XCTAssertTrue(past[0].contains("RUNNING"), "training goes on while scrubbing")
        XCTAssertLessThanOrEqual(past.map(\.count).max() ?? 0, 80)
        let stepWhileScrubbed = past[1]
        try tmux.waitFor("training moving on behind the cursor") { $0[1] != stepWhileScrubbed && $0[1].contains("◂ time: epoch 0 step 0") }

        // Diff mode on the features view: mark step 0, go live.
        try tmux.press("t", "\\", "3")
        let diff = try tmux.waitFor(text: "Δ since step 0")
        XCTAssertFalse(diff[1].contains("◂ time:"), "\\ went live")
        try tmux.press("t", "Space")
        try tmux.waitFor(text: "PAUSED")
        try tmux.press("s")
        try tmux.waitFor(text: "saved checkpoint")
        try tmux.press("q")
        try tmux.waitFor(text: "EXIT=0")
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder + "/run.safetensors.history.safetensors"))

        // Exploring the checkpoint: its history is there before any step.
        try tmux.type("clear; \(binary) --data synthetic --model tiny --epochs 30 --checkpoint run.safetensors; echo EXIT=$?")
        try tmux.waitFor(text: "PAUSED")
        try tmux.press("[")
        try tmux.waitFor("the saved history") { $0[1].contains("◂ time: epoch") && $0[1].contains(" of 256.0 MiB") }
        try tmux.press("q")
        try tmux.waitFor(text: "EXIT=0")
    }
}
