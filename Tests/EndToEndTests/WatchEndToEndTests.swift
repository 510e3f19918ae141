import ConvKit
import Foundation
import TestSupport
import XCTest

/// `convscope watch DIR` as a user runs it: `--once` in a script, and the app in tmux following a run
/// directory that another process writes: our own `train --run-dir`, garbage dropped beside it, and a
/// two-process `torchrun` run of python/examples/train.py on the synthetic set (skipped loudly without torch).
final class WatchEndToEndTests: XCTestCase {
    private var driver: TmuxDriver?
    private var temporary: TemporaryFolder!
    private var folder: String { temporary.path }

    override func setUpWithError() throws {
        temporary = try TemporaryFolder("watch-e2e")
    }

    override func tearDown() {
        driver?.close()
        driver = nil
        temporary = nil
    }

    /// A finished two-epoch run of the tiny model on 512 synthetic images (8 steps an epoch) in `name`.
    private func trainRun(_ name: String) throws -> String {
        let run = folder + "/" + name
        let result = try Convscope.run([
            "train", "--data", "synthetic", "--model", "tiny", "--epochs", "2", "--train-limit", "512", "--batch", "64", "--run-dir", run,
        ])
        XCTAssertEqual(result.status, 0, result.stderr)
        return run
    }

    private func append(_ text: String, to path: String) throws {
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    func testWatchOnceReportsTheLatestMetricsAndEvaluatesTheNewestCheckpoint() throws {
        let run = try trainRun("own")
        // Garbage beside the checkpoints: reported, and the report goes on.
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: run + "/checkpoints/step-000000099.safetensors"))

        let text = try Convscope.run(["watch", run, "--once"])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("model conv16,relu,maxpool,conv32,relu,maxpool,conv64,relu,gap,fc10, SYNTHETIC [SYNTHETIC]"), text.stdout)
        XCTAssertTrue(text.stdout.contains("metrics: 16 train and 2 eval lines; step 16:"), text.stdout)
        XCTAssertTrue(text.stdout.contains("checkpoint checkpoints/step-000000016.safetensors (step 16): test accuracy"), text.stdout)
        XCTAssertTrue(text.stderr.contains("warning: skipped checkpoints/step-000000099.safetensors is "), text.stderr)

        let json = try Convscope.run(["watch", run, "--once", "--json"])
        XCTAssertEqual(json.status, 0, json.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["train_lines"] as? Int, 16)
        XCTAssertEqual(object["step"] as? Int, 16)
        XCTAssertEqual((object["skipped"] as? [String])?.count, 1)
        let checkpoint = try XCTUnwrap(object["checkpoint"] as? [String: Any])
        let latestEval = try XCTUnwrap(object["latest_eval"] as? [String: Any])
        XCTAssertEqual(checkpoint["step"] as? Int, 16)
        XCTAssertEqual(checkpoint["images"] as? Int, 2_000)
        // The checkpoint is the weights the run evaluated after its last epoch: the same test accuracy
        // (within one image of 2,000, for a prediction rounding could tip).
        let accuracy = try XCTUnwrap(checkpoint["accuracy"] as? Double), reported = try XCTUnwrap(latestEval["test_accuracy"] as? Double)
        XCTAssertEqual(accuracy, reported, accuracy: 1.0 / 2_000)
    }

    func testWatchRefusesWhatIsNotARunDirectoryInOneLine() throws {
        let missing = try Convscope.run(["watch", folder + "/nothing-here", "--once"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.stderr, "convscope: error: cannot read '\(folder)/nothing-here': no such run directory\n")

        let foreign = folder + "/photos"
        try FileManager.default.createDirectory(atPath: foreign, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: foreign + "/holiday.jpg"))
        let notARun = try Convscope.run(["watch", foreign, "--once"])
        XCTAssertEqual(notARun.status, 1)
        XCTAssertTrue(notARun.stderr.hasPrefix("convscope: error: '\(foreign)' is not a run directory: it has no run.json"), notARun.stderr)
        XCTAssertEqual(notARun.stderr.split(separator: "\n").count, 1, notARun.stderr)

        let other = folder + "/other"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        try Data(#"{"format": "tensorboard", "version": 3}"#.utf8).write(to: URL(fileURLWithPath: other + "/run.json"))
        let otherFormat = try Convscope.run(["watch", other, "--once"])
        XCTAssertEqual(otherFormat.status, 1)
        XCTAssertTrue(otherFormat.stderr.contains("is not a ConvScope run directory: run.json has format 'tensorboard'"), otherFormat.stderr)

        let empty = folder + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let nothingYet = try Convscope.run(["watch", empty, "--once"])
        XCTAssertEqual(nothingYet.status, 1)
        XCTAssertTrue(nothingYet.stderr.contains("holds no run yet"), nothingYet.stderr)

        let usage = try Convscope.run(["watch", empty, "--json"])
        XCTAssertEqual(usage.status, 2)
        XCTAssertTrue(usage.stderr.contains("--json goes with --once"), usage.stderr)
    }

    func testGarbageDroppedIntoAWatchedRunIsAStatusMessageNotACrash() throws {
        try TmuxDriver.requireTmux()
        let binary = try TmuxDriver.binary()
        let run = try trainRun("watched")
        let tmux = try TmuxDriver(width: 100, height: 30)
        driver = tmux
        try tmux.type("\(binary) watch \(run) --interval 0.1; echo EXIT=$?")
        try tmux.waitFor(text: "WATCHING")
        try tmux.waitFor(text: "checkpoint step 16 (epoch 2)")
        try tmux.waitFor(text: "loaded checkpoints/step-000000016.safetensors (step 16)")

        try Data("not a checkpoint".utf8).write(to: URL(fileURLWithPath: run + "/checkpoints/step-000000099.safetensors"))
        try tmux.waitFor(text: "checkpoints/step-000000099.safetensors is not a safetensors file")
        try append("{\"step\": \"seventeen\"}\n", to: run + "/metrics.jsonl")
        try tmux.waitFor(text: "metrics.jsonl line 19 'step' is a string")
        // A checkpoint cut short, newer than the one shown: skipped, the step-16 weights stay.
        let whole = try Data(contentsOf: URL(fileURLWithPath: run + "/checkpoints/step-000000016.safetensors"))
        try whole.prefix(whole.count - 100).write(to: URL(fileURLWithPath: run + "/checkpoints/step-000000024.safetensors"))
        try tmux.waitFor(text: "step-000000024.safetensors is truncated")
        XCTAssertTrue(try tmux.screen().contains { $0.contains("checkpoint step 16 (epoch 2)") })

        // Training keys are shown as unavailable, the views work on the checkpoint.
        try tmux.press("Space")
        try tmux.waitFor(text: "pause is unavailable while watching")
        try tmux.press("4")
        try tmux.waitFor(text: "Grad-CAM at conv1 · step 16")
        try tmux.press("e")
        try tmux.waitFor(text: "exported ")
        try tmux.press("3")
        try tmux.waitFor(text: "Features: conv1")
        try tmux.press("5")
        try tmux.waitFor(text: "epoch 2: test accuracy")
        // The compression lab prunes a copy of the checkpoint's weights and measures it.
        try tmux.press("6")
        try tmux.waitFor(text: "zero weights per layer: current weights")
        try tmux.press("p")
        try tmux.waitFor("the pruned row's numbers", timeout: 60) { screen in
            screen.contains { $0.range(of: #"pruned 30% +\d+ +[\d,]+ +[\d,]+ .*%"#, options: .regularExpression) != nil }
        }
        try tmux.press("q")
        try tmux.waitFor(text: "EXIT=0")
    }

    /// `convscope watch` in tmux on the empty directory `name`, as a user starts it in a second terminal before the
    /// run: the run directory's path, and the driver (also in `driver`).
    private func watchEmptyRun(_ name: String, width: Int, height: Int) throws -> (run: String, tmux: TmuxDriver) {
        let binary = try TmuxDriver.binary()
        let run = folder + "/" + name
        try FileManager.default.createDirectory(atPath: run, withIntermediateDirectories: true)
        let tmux = try TmuxDriver(width: width, height: height)
        driver = tmux
        try tmux.type("\(binary) watch \(run) --interval 0.1; echo EXIT=$?")
        try tmux.waitFor(text: "waiting for a run in")
        return (run, tmux)
    }

    func testTheTimeScrubberStepsBackThroughTheWatchedRunsCheckpointsAt80x24() throws {
        try TmuxDriver.requireTmux()
        let binary = try TmuxDriver.binary()
        // The watcher first; then a headless run writes a checkpoint per epoch (8 steps each).
        let (run, tmux) = try watchEmptyRun("scrubbed", width: 80, height: 24)
        let train = Process()
        train.executableURL = URL(fileURLWithPath: binary)
        train.arguments = [
            "train", "--data", "synthetic", "--model", "tiny", "--epochs", "3", "--train-limit", "512", "--batch", "64", "--run-dir", run,
        ]
        train.standardOutput = FileHandle.nullDevice
        train.standardError = FileHandle.nullDevice
        train.standardInput = FileHandle.nullDevice
        try train.run()
        defer { if train.isRunning { train.terminate() } }

        let last = try tmux.waitFor("the last checkpoint shown", timeout: 180) { $0[1].contains("checkpoint step 24 (epoch 3)") }
        XCTAssertTrue(last[0].contains("WATCHING"), last[0])
        XCTAssertFalse(last[1].contains("◂ time:"))
        // Back one checkpoint, then one more: the header names each earlier checkpoint's time.
        try tmux.press("[")
        let second = try tmux.waitFor(text: "◂ time: epoch 2 step 16")
        XCTAssertTrue(second[1].contains("◂ time: epoch 2 step 16 (2/3)"), second[1])
        XCTAssertTrue(second[1].contains("live ▸"), second[1])
        try tmux.press("[")
        let first = try tmux.waitFor(text: "◂ time: epoch 1 step 8")
        XCTAssertLessThanOrEqual(first.map(\.count).max() ?? 0, 80)
        try tmux.press("[")
        try tmux.waitFor(text: "epoch 1 step 8 is the oldest snapshot kept")
        // The views follow: Grad-CAM of step 8's weights.
        try tmux.press("4")
        try tmux.waitFor(text: "Grad-CAM at conv1 · step 8")
        // Live again: the newest checkpoint.
        try tmux.press("\\")
        try tmux.waitFor("live again") { !$0[1].contains("◂ time:") && $0[1].contains("checkpoint step 24 (epoch 3)") }
        train.waitUntilExit()
        XCTAssertEqual(train.terminationStatus, 0)
        try tmux.press("q")
        try tmux.waitFor(text: "EXIT=0")
    }

    func testATwoProcessTorchrunRunIsWatchedAsItGrows() throws {
        try TmuxDriver.requireTmux()
        let python = try PyTorchSideTests.python()
        let (run, tmux) = try watchEmptyRun("ddp", width: 100, height: 30)

        // 4,096 synthetic images, batch 64 over two gloo processes: 64 steps an epoch, 3 epochs, a metrics
        // line every 4 steps and a checkpoint every 16.
        let log = folder + "/torchrun.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let torchrun = Process()
        torchrun.executableURL = URL(fileURLWithPath: python)
        torchrun.arguments = [
            "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
            PyTorchSideTests.repository.appendingPathComponent("python/examples/train.py").path, "--data", "synthetic", "--model",
            "tiny", "--epochs", "3", "--batch", "64", "--train-limit", "4096", "--run-dir", run, "--log-every", "4",
            "--checkpoint-every", "16", "--device", "cpu",
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = PyTorchSideTests.package
        environment["OMP_NUM_THREADS"] = "1"
        torchrun.environment = environment
        torchrun.standardOutput = FileHandle(forWritingAtPath: log)
        torchrun.standardError = FileHandle(forWritingAtPath: log)
        torchrun.standardInput = FileHandle.nullDevice
        try torchrun.run()
        defer { if torchrun.isRunning { torchrun.terminate() } }

        // Follow the header while the run trains: the metrics' step and the checkpoint shown both move on.
        var runSteps: [Int] = [], checkpointSteps: [Int] = []
        func number(after prefix: String, in screen: [String]) -> Int? {
            guard let line = screen.first(where: { $0.contains(prefix) }), let range = line.range(of: prefix) else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
        let deadline = Date().addingTimeInterval(300)
        while Date() < deadline {
            let screen = try tmux.screen()
            if let step = number(after: "run step ", in: screen), step != runSteps.last { runSteps.append(step) }
            if let step = number(after: "checkpoint step ", in: screen), step != checkpointSteps.last { checkpointSteps.append(step) }
            if !torchrun.isRunning && checkpointSteps.last == 192 && runSteps.last == 192 { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let output = String(decoding: FileManager.default.contents(atPath: log) ?? Data(), as: UTF8.self)
        torchrun.waitUntilExit()
        XCTAssertEqual(torchrun.terminationStatus, 0, output)
        print("watch followed run steps \(runSteps) and checkpoint steps \(checkpointSteps)")
        XCTAssertEqual(runSteps.last, 192, "the metrics' last step: \(runSteps)\n\(output)")
        XCTAssertEqual(checkpointSteps.last, 192, "the last checkpoint: \(checkpointSteps)")
        XCTAssertGreaterThanOrEqual(runSteps.count, 3, "the curves grew while the app watched: \(runSteps)")
        XCTAssertEqual(runSteps, runSteps.sorted(), "steps only go forward")
        XCTAssertGreaterThanOrEqual(checkpointSteps.count, 2, "a new checkpoint replaced the one shown: \(checkpointSteps)")
        XCTAssertEqual(checkpointSteps, checkpointSteps.sorted())

        // The curves, and the Grad-CAM of the newest checkpoint, from PyTorch's weights.
        let curves = try tmux.waitFor(text: "loss (l: log)")
        XCTAssertTrue(curves.contains { $0.contains("WATCHING") })
        XCTAssertTrue(curves.contains { $0.contains("checkpoint step 192 (epoch 3)") })
        try tmux.press("4")
        try tmux.waitFor(text: "Grad-CAM at conv1 · step 192")
        try tmux.waitFor(text: "explaining")
        try tmux.press("5")
        try tmux.waitFor(text: "Confusion")
        try tmux.press("q")
        try tmux.waitFor(text: "EXIT=0")
    }
}
