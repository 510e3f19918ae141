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
        // The mark alone already says "Δ since step 0" (the cursor is still at step 0): wait for the backslash too.
        try tmux.waitFor("the change since step 0, live") { $0.joined().contains("Δ since step 0") && !$0[1].contains("◂ time:") }
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

    func testDiffModeOnTheExplanationBoardAndInTheCompressionLabAt80x24() throws {
        try diffModeOnTheBoardAndInTheLab(width: 80, height: 24)
    }

    func testDiffModeOnTheExplanationBoardAndInTheCompressionLabAt160x48() throws {
        try diffModeOnTheBoardAndInTheLab(width: 160, height: 48)
    }

    /// Marks the initialisation, goes live, and reads the change since it in views 8 (maps, scores, sanity curve) and 6
    /// (table, sparsity bars) while training goes on.
    private func diffModeOnTheBoardAndInTheLab(width: Int, height: Int) throws {
        try TmuxDriver.requireTmux()
        let binary = try TmuxDriver.binary()
        let tmux = try TmuxDriver(width: width, height: height)
        driver = tmux
        try tmux.type("cd \(folder) && \(binary) --data synthetic --model tiny --epochs 30 --checkpoint run.safetensors; echo EXIT=$?")
        try tmux.waitFor(text: "RUNNING")
        // Into the second epoch: the live weights have moved well away from the initialisation.
        try tmux.waitFor("the second epoch", timeout: 120) { $0[1].range(of: #"epoch ([2-9]|\d\d)/30"#, options: .regularExpression) != nil }
        try tmux.press([String](repeating: "[", count: 10))
        try tmux.waitFor(text: "◂ time: epoch 0 step 0")
        try tmux.press("t", "\\", "8")
        // The board: every map as its change since step 0, the scores as signed changes, complete.
        let board = try tmux.waitFor("the board's change since step 0", timeout: 90) { screen in
            screen.contains { $0.contains("Δ since step 0") } && screen.contains { $0.contains("done · e exports the board") }
        }
        let text = board.joined(separator: "\n")
        XCTAssertFalse(board[1].contains("◂ time:"), "live again: \(board[1])")
        XCTAssertTrue(text.contains("Δ scores since 0"), text)
        let gradCAM = try XCTUnwrap(board.first { $0.contains("│ Grad-CAM ") }, text)
        XCTAssertNotNil(gradCAM.range(of: #"[+-]\d\.\d{3}"#, options: .regularExpression), gradCAM)
        XCTAssertTrue(board[0].contains("RUNNING"), "training goes on")
        XCTAssertLessThanOrEqual(board.map(\.count).max() ?? 0, width)
        // Then the sanity curve beside the scores: each randomised layer's change of ρ and SSIM since step 0.
        let sanity = try tmux.waitFor("the sanity curve's change since step 0", timeout: 90) { screen in
            screen.contains { $0.contains("Δρ") && $0.contains("ΔSSIM") }
                && screen.contains { $0.range(of: #"[+-]\d\.\d\d +[+-]\d\.\d\d\b"#, options: .regularExpression) != nil }
        }
        XCTAssertLessThanOrEqual(sanity.map(\.count).max() ?? 0, width)

        // The lab: p measures pruning now and at the marked time; each model then, now, and the change.
        try tmux.press("6", "p")
        let lab = try tmux.waitFor("pruning then, now and the change", timeout: 120) { screen in
            screen.filter { $0.contains(" Δ ") && $0.contains(" pp") }.count >= 2
        }
        let labText = lab.joined(separator: "\n")
        XCTAssertTrue(labText.contains("Δ since step 0: each model then, now, and the change"), labText)
        let header = try XCTUnwrap(lab.firstIndex { $0.contains("model") && $0.contains("test acc") }, labText)
        XCTAssertNotNil(lab[header + 1].range(of: #"float32 +0 "#, options: .regularExpression), lab[header + 1])
        XCTAssertTrue(lab[header + 2].contains("float32"), lab[header + 2])
        XCTAssertTrue(lab[header + 4].contains("pruned 30%"), lab[header + 4])
        XCTAssertNotNil(lab[header + 4].range(of: #"pruned 30% +0 "#, options: .regularExpression), lab[header + 4])
        XCTAssertNotNil(lab[header + 6].range(of: #"Δ .*[+-]?\d+\.\d pp"#, options: .regularExpression), lab[header + 6])
        // The sparsity bars: the pruned copy's share of zeros now, its change since step 0 as the number.
        XCTAssertTrue(labText.contains("zero weights per layer now, Δ since step 0: pruned 30%"), labText)
        XCTAssertNotNil(labText.range(of: #"conv\w* +[0-9,]+ [█▉▊▋▌▍▎▏ ]+[+-]\d+\.\dpp"#, options: .regularExpression), labText)
        XCTAssertLessThanOrEqual(lab.map(\.count).max() ?? 0, width)

        // t clears the mark: the plain table again.
        try tmux.press("t")
        try tmux.waitFor("the plain table") { !$0.contains { $0.contains("Δ since step") } }
        try tmux.press("q")
        try tmux.waitFor("the quit prompt or the end") { $0.contains { $0.contains("save first?") || $0.contains("EXIT=") } }
        if try tmux.screen().contains(where: { $0.contains("save first?") }) { try tmux.press("n") }
        try tmux.waitFor(text: "EXIT=0", timeout: 30)
    }
}
