import ConvKit
import Foundation
import TestSupport
import XCTest

/// The `convscope` binary off the happy path: a run that diverges, checkpoints with NaN weights, models
/// too big for the machine, signals in the middle of a run or of a save, a full disk, a read-only folder.
final class ReliabilityTests: XCTestCase {
    private var temporary: TemporaryFolder!
    private var folder: String { temporary.path }
    private var mounts: [String] = []

    override func setUpWithError() throws {
        temporary = try TemporaryFolder("reliability")
    }

    override func tearDown() {
        for mount in mounts.reversed() { _ = try? TmuxDriver.run(["umount", mount]) }
        temporary = nil
    }

    private func path(_ name: String) -> String { temporary.path(name) }

    /// A one-epoch run of `model` on the synthetic set, saved at `name`.
    private func trainedCheckpoint(_ name: String = "model.safetensors", model: String = "tiny", extra: [String] = []) throws -> String {
        let checkpoint = path(name)
        let run = try Convscope.run(
            ["train", "--model", model, "--data", "synthetic", "--epochs", "1", "--batch", "64", "--train-limit", "640", "--checkpoint", checkpoint]
                + extra)
        XCTAssertEqual(run.status, 0, run.stderr)
        return checkpoint
    }

    /// Temporary files (`.<name>.tmp-...`) left in `directory`.
    private func temporaries(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.contains(".tmp-") }
    }

    /// The standard error's last line, and the number of lines that are errors.
    private func errorLine(_ result: Convscope.Result) -> String {
        result.stderr.split(separator: "\n").last.map(String.init) ?? ""
    }

    private func assertOneLineError(
        _ result: Convscope.Result, contains pieces: [String], file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(result.status, 1, "exit status 1: \(result.stderr)", file: file, line: line)
        let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("convscope: error:") }
        XCTAssertEqual(errors.count, 1, "one error line: \(result.stderr)", file: file, line: line)
        for piece in pieces {
            XCTAssertTrue(errors.first?.contains(piece) ?? false, "the error names \(piece): \(result.stderr)", file: file, line: line)
        }
    }

    // MARK: - Divergence

    func testADivergingRunStopsWithOneLineAndSavesNothing() throws {
        let checkpoint = path("diverged.safetensors")
        let run = try Convscope.run([
            "train", "--model", "tiny", "--data", "synthetic", "--epochs", "1", "--batch", "64", "--train-limit", "640",
            "--lr", "1e30", "--checkpoint", checkpoint,
        ])
        assertOneLineError(run, contains: ["training diverged at epoch 1, step ", " of 10 (learning rate ", "try a lower --lr", "no checkpoint was written"])
        XCTAssertTrue(errorLine(run).hasPrefix("convscope: error: training diverged"), run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: checkpoint))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("diverged.jsonl")), "no metrics line for a diverged epoch")
    }

    /// A run resumed from a good checkpoint diverges (its recorded rate is made absurd): the checkpoint
    /// and its metrics stay exactly as they were.
    func testADivergenceLeavesTheLastGoodCheckpointUntouched() throws {
        let checkpoint = try trainedCheckpoint()
        var file = try SafeTensors(contentsOf: checkpoint)
        var config = try TrainingConfig(jsonText: try XCTUnwrap(file.metadata[RunCheckpoint.configKey]))
        config.learningRate = 1e30
        config.schedule.learningRate = .constant
        file.metadata[RunCheckpoint.configKey] = try config.jsonText()
        try file.write(to: checkpoint)
        let before = try Data(contentsOf: URL(fileURLWithPath: checkpoint))
        let metricsBefore = try String(contentsOfFile: path("model.jsonl"), encoding: .utf8)

        let run = try Convscope.run(["train", "--resume", "--checkpoint", checkpoint, "--data", "synthetic", "--epochs", "2", "--snapshot-budget", "0"])
        assertOneLineError(run, contains: ["training diverged at epoch 2, step ", "model.safetensors is left as it was"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: checkpoint)), before, "the checkpoint is untouched")
        XCTAssertEqual(try String(contentsOfFile: path("model.jsonl"), encoding: .utf8), metricsBefore)
        XCTAssertEqual(temporaries(in: folder), [])
        XCTAssertEqual(try Convscope.run(["eval", "--checkpoint", checkpoint, "--data", "synthetic"]).status, 0)
    }

    /// A checkpoint whose weights hold NaN: every command that reads one refuses it in one line naming the
    /// file and the tensor, and writes nothing.
    func testEveryCommandRefusesACheckpointWithNaNWeights() throws {
        let good = try trainedCheckpoint()
        var file = try SafeTensors(contentsOf: good)
        let index = try XCTUnwrap(file.tensors.firstIndex { $0.name == "conv2.weight" })
        var values = try XCTUnwrap(file.tensors[index].floats)
        values[7] = .nan
        file.tensors[index] = SafeTensors.Entry(name: "conv2.weight", shape: file.tensors[index].shape, floats: values)
        let bad = path("nan.safetensors")
        try file.write(to: bad)
        let synthetic = ["--data", "synthetic"]
        let commands: [[String]] = [
            ["eval", "--checkpoint", bad] + synthetic,
            ["eval", "--checkpoint", bad, "--json"] + synthetic,
            ["predict", "--checkpoint", bad, "--index", "0", "3"] + synthetic,
            ["gradcam", "--checkpoint", bad, "--index", "0", "--out", path("cam.png")] + synthetic,
            ["export", "filters", "--checkpoint", bad, "--layer", "conv1", "--out", path("filters.png")],
            ["export", "features", "--checkpoint", bad, "--layer", "conv1", "--out", path("features.png")] + synthetic,
            ["prune", "--checkpoint", bad, "--amount", "0.3", "--out", path("pruned.safetensors")] + synthetic,
            ["quantize", "--checkpoint", bad, "--out", path("int8.safetensors")] + synthetic,
            ["distill", "--teacher", bad, "--checkpoint", path("student.safetensors"), "--model", "tiny", "--epochs", "1"] + synthetic,
            ["train", "--resume", "--checkpoint", bad] + synthetic,
        ]
        for arguments in commands {
            let run = try Convscope.run(arguments)
            assertOneLineError(run, contains: ["'\(bad)'", "conv2.weight", "NaN"])
        }
        // Only what the good run wrote (its checkpoint, metrics and weight history) and the bad checkpoint: the
        // refused commands wrote nothing.
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: folder).sorted(),
            ["model.jsonl", "model.safetensors", "model.safetensors.history.safetensors", "nan.safetensors"])
    }

    /// Finite weights so large that the scores overflow: the JSON outputs carry `null` for the non-finite
    /// numbers, and nothing traps.
    func testOverflowingScoresAreNullInJSONAndNothingTraps() throws {
        let checkpoint = try trainedCheckpoint()
        var file = try SafeTensors(contentsOf: checkpoint)
        for name in ["fc1.weight", "fc1.bias"] {
            let index = try XCTUnwrap(file.tensors.firstIndex { $0.name == name })
            let shape = file.tensors[index].shape
            file.tensors[index] = SafeTensors.Entry(name: name, shape: shape, floats: [Float](repeating: 3e38, count: shape.reduce(1, *)))
        }
        try file.write(to: checkpoint)
        let predict = try Convscope.run(["predict", "--checkpoint", checkpoint, "--data", "synthetic", "--index"] + (0..<10).map(String.init) + ["--json"])
        XCTAssertEqual(predict.status, 0, predict.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(predict.stdout.utf8)) as? [String: Any])
        let images = try XCTUnwrap(object["images"] as? [[String: Any]])
        let probabilities = images.flatMap { ($0["probabilities"] as? [Any]) ?? [] }
        XCTAssertTrue(probabilities.contains { $0 is NSNull }, "NaN probabilities are written as null: \(predict.stdout.prefix(400))")
        let text = try Convscope.run(["predict", "--checkpoint", checkpoint, "--data", "synthetic", "--index", "0", "1", "2"])
        XCTAssertEqual(text.status, 0, text.stderr)
        let eval = try Convscope.run(["eval", "--checkpoint", checkpoint, "--data", "synthetic", "--json"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
    }

    // MARK: - Memory

    /// Runs `arguments` with the address space capped at 4 GiB (`ulimit -v`): a command that allocated for
    /// the model before refusing it would fail differently.
    private func runCapped(_ arguments: [String], environment: [String: String] = [:]) throws -> (Convscope.Result, seconds: Double) {
        // AddressSanitizer and ThreadSanitizer reserve terabytes of address space for their shadow memory when a
        // process starts, so no sanitised binary starts under a 4 GiB cap; the unsanitised runs of `make test` check this.
        if let sanitizer = ProcessInfo.processInfo.environment["CONVSCOPE_SANITIZER"], ["address", "thread"].contains(sanitizer) {
            throw XCTSkip("the binary is built with the \(sanitizer) sanitizer, which cannot start under `ulimit -v` (its shadow memory needs terabytes of address space); `make test` runs this check")
        }
        let started = Date()
        let quoted = arguments.map { "'\($0)'" }.joined(separator: " ")
        let binary = try Convscope.binary
        let result = try Convscope.run(
            ["-c", "ulimit -v 4194304 && exec '\(binary)' \(quoted)"], environment: environment, executable: "/bin/sh")
        return (result, Date().timeIntervalSince(started))
    }

    func testModelsAndBatchesTooBigForTheMachineAreRefusedBeforeAllocating() throws {
        // (Widths above 65,536 are the spec parser's to refuse.)
        let (summary, summarySeconds) = try runCapped(["summary", "--model", "conv60000,gap,fc10", "--batch", "512"])
        assertOneLineError(summary, contains: ["--model conv60000,gap,fc10: training at batch 512 needs about", "GiB", "conv1 (conv60000)", "memory available"])
        let (train, trainSeconds) = try runCapped(["train", "--model", "conv4096,conv4096,gap,fc10", "--batch", "100000", "--data", "synthetic"])
        assertOneLineError(train, contains: ["training at batch 100000 needs about", "TiB", "conv2 (conv4096)", "smaller --batch"])
        // A generous bound, not a speed measurement: refusing is arithmetic, allocating would take minutes.
        XCTAssertLessThan(max(summarySeconds, trainSeconds), 20)

        let huge = path("huge.safetensors")
        try SafeTensors(metadata: ["format": "convscope", "spec": "conv50000,conv50000,gap,fc10"]).write(to: huge)
        let (eval, _) = try runCapped(["eval", "--checkpoint", huge, "--data", "synthetic"])
        assertOneLineError(eval, contains: ["checkpoint '\(huge)': its model conv50000,conv50000,gap,fc10: running it on one image needs", "conv2 (conv50000)"])

        let (capped, _) = try runCapped(["train", "--model", "tiny", "--data", "synthetic"], environment: ["CONVSCOPE_MEMORY_LIMIT": "1M"])
        assertOneLineError(capped, contains: ["more than the 1.0 MiB that CONVSCOPE_MEMORY_LIMIT allows"])
        // The model's steps fit in 100 MiB, but not with the run's 12,000 images, its weight history and the program:
        // refused once the data set is read, before the first step, and nothing is written.
        let checkpoint = path("tiny-run.safetensors")
        let (whole, _) = try runCapped(
            ["train", "--model", "tiny", "--data", "synthetic", "--checkpoint", checkpoint], environment: ["CONVSCOPE_MEMORY_LIMIT": "100M"])
        assertOneLineError(whole, contains: [
            "training at batch 128 with its images (35.2 MiB) and weight history (", "more than the 100.0 MiB that CONVSCOPE_MEMORY_LIMIT allows",
            "a smaller --snapshot-budget or --train-limit",
        ])
        XCTAssertFalse(FileManager.default.fileExists(atPath: checkpoint), "nothing written")
        let fits = try Convscope.run(["summary", "--model", "tiny", "--batch", "64"])
        XCTAssertEqual(fits.status, 0, fits.stderr)
        XCTAssertTrue(fits.stdout.contains("memory, estimated: weights 94.7 KiB; at batch 64 training (SGD) about"), fits.stdout)
    }

    // MARK: - Signals

    /// Every tensor's bytes (model and optimiser state) of a checkpoint.
    private func tensorBytes(_ checkpoint: String) throws -> [String: [UInt8]] {
        Dictionary(uniqueKeysWithValues: try SafeTensors(contentsOf: checkpoint).tensors.map { ($0.name, $0.bytes) })
    }

    func testARunInterruptedMidEpochAndResumedEndsWithTheSameWeightsBitForBit() throws {
        let run = ["train", "--model", "tiny", "--data", "synthetic", "--epochs", "2", "--batch", "32", "--train-limit", "2560"]
        let straight = path("straight.safetensors")
        XCTAssertEqual(try Convscope.run(run + ["--checkpoint", straight]).status, 0)

        let interrupted = path("interrupted.safetensors")
        let process = try Convscope.Spawned(run + ["--checkpoint", interrupted], folder: folder)
        // The first progress line comes after the first step: from then on the run is mid-epoch.
        try process.waitForOutput("epoch 1/2 1/80")
        process.signal(SIGINT)
        let result = process.wait()
        XCTAssertEqual(result.status, 130, "128 + SIGINT: \(result.stderr)")
        XCTAssertTrue(result.stderr.contains("convscope: stopped by SIGINT at epoch 1, step "), result.stderr)
        XCTAssertTrue(result.stderr.contains("continue with: convscope train --resume --checkpoint \(interrupted)"), result.stderr)
        let saved = try SafeTensors(contentsOf: interrupted)
        XCTAssertNotNil(saved.metadata[RunCheckpoint.progressKey], "saved mid-epoch")
        XCTAssertEqual(temporaries(in: folder), [])

        let resumed = try Convscope.run(["train", "--resume", "--checkpoint", interrupted, "--data", "synthetic"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let expected = try tensorBytes(straight), actual = try tensorBytes(interrupted)
        XCTAssertEqual(Set(expected.keys), Set(actual.keys))
        for (name, bytes) in expected { XCTAssertTrue(actual[name] == bytes, "\(name) differs after the resume") }
    }

    /// A model whose checkpoint takes a while to write (134 MB): signals land while the temporary exists.
    private func bigCheckpoint() throws -> String {
        try trainedCheckpoint("big.safetensors", model: "conv8,flatten,fc2048,fc10", extra: ["--train-limit", "64", "--batch", "32"])
    }

    /// Starts `arguments`, waits for the temporary of `checkpoint` to appear, then sends `signals` (100 ms apart).
    private func signalDuringSave(_ arguments: [String], checkpoint: String, signals: [Int32]) throws -> Convscope.Result {
        let process = try Convscope.Spawned(arguments, folder: folder)
        let prefix = "." + (checkpoint as NSString).lastPathComponent + ".tmp-"
        let deadline = Date().addingTimeInterval(120)
        var seen = false
        while Date() < deadline && process.isRunning {
            if temporaries(in: folder).contains(where: { $0.hasPrefix(prefix) }) {
                seen = true
                break
            }
            usleep(2000)
        }
        XCTAssertTrue(seen, "the save's temporary file was never seen")
        for (index, signal) in signals.enumerated() {
            if index > 0 { usleep(100_000) }
            process.signal(signal)
        }
        return process.wait()
    }

    func testASecondSignalDuringASaveEndsAtOnceKeepingTheOldCheckpointAndNoTemporary() throws {
        let checkpoint = try bigCheckpoint()
        let old = try Data(contentsOf: URL(fileURLWithPath: checkpoint))
        let result = try signalDuringSave(
            ["train", "--resume", "--checkpoint", checkpoint, "--data", "synthetic", "--epochs", "2"], checkpoint: checkpoint,
            signals: [SIGINT, SIGTERM])
        XCTAssertEqual(result.status, 128 + SIGTERM, "ended by the second signal: \(result.stderr)")
        XCTAssertEqual(temporaries(in: folder), [], "the temporary was deleted")
        let now = try Data(contentsOf: URL(fileURLWithPath: checkpoint))
        // The rename may just have happened before the second signal: then the file is the complete new one.
        if now != old { XCTAssertEqual(try RunCheckpoint.load(checkpoint).epoch, 2, "a changed checkpoint is the complete new one") }
    }

    func testASignalDuringASaveLetsTheSaveFinishThenStops() throws {
        let checkpoint = try bigCheckpoint()
        let result = try signalDuringSave(
            ["train", "--resume", "--checkpoint", checkpoint, "--data", "synthetic", "--epochs", "3"], checkpoint: checkpoint,
            signals: [SIGTERM])
        XCTAssertEqual(result.status, 128 + SIGTERM, result.stderr)
        XCTAssertTrue(result.stderr.contains("convscope: stopped by SIGTERM after epoch 2;"), result.stderr)
        XCTAssertEqual(try RunCheckpoint.load(checkpoint).epoch, 2, "the save in progress completed")
        XCTAssertEqual(temporaries(in: folder), [])
    }

    // MARK: - Full disk, read-only folder

    func testAWriteLimitGivesOneLineAndKeepsTheOldCheckpoint() throws {
        // ThreadSanitizer's runtime dies of SIGBUS before `main` under `ulimit -f` (even `convscope --version`
        // does), so a binary built with it cannot show what this test checks; `make test` runs it.
        if ProcessInfo.processInfo.environment["CONVSCOPE_SANITIZER"] == "thread" {
            throw XCTSkip("the binary is built with ThreadSanitizer, whose runtime cannot start under `ulimit -f`; `make test` runs this check")
        }
        let checkpoint = try trainedCheckpoint()
        let old = try Data(contentsOf: URL(fileURLWithPath: checkpoint))
        // RLIMIT_FSIZE of 100 KiB, with SIGXFSZ ignored: writing the 190 KiB checkpoint fails with EFBIG,
        // as a full disk would fail it, for any user.
        let binary = try Convscope.binary
        let script = "trap '' XFSZ; ulimit -f 200 && exec '\(binary)' train --resume --checkpoint '\(checkpoint)' --data synthetic --epochs 2"
        let run = try Convscope.run(["-c", script], executable: "/bin/sh")
        assertOneLineError(run, contains: ["cannot write '\(checkpoint)'", "File too large"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: checkpoint)), old)
        XCTAssertEqual(temporaries(in: folder), [])

        let device = try Convscope.run(["train", "--model", "tiny", "--data", "synthetic", "--train-limit", "64", "--checkpoint", "/dev/full"])
        assertOneLineError(device, contains: ["'/dev/full'", "not a regular file"])
        var info = stat()
        XCTAssertEqual(stat("/dev/full", &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFCHR, "/dev/full is still the device")
    }

    /// Mounts a small tmpfs at `directory` (root only), or skips loudly.
    private func mountTmpfs(_ directory: String, size: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let unchecked = "the full-disk and read-only-folder checks did not run; testAWriteLimitGivesOneLineAndKeepsTheOldCheckpoint covers failing writes"
        guard geteuid() == 0 else {
            throw skip(.privileges, "not running as root, so no tmpfs can be mounted: \(unchecked)")
        }
        guard (try? TmuxDriver.run(["mount", "-t", "tmpfs", "-o", "size=\(size)", "tmpfs", directory]))?.status == 0 else {
            throw skip(.environment, "running as root but cannot mount a tmpfs here (no mount rights): \(unchecked)")
        }
        mounts.append(directory)
    }

    func testAFullDiskAndAReadOnlyFolderGiveOneLineAndKeepTheOldCheckpoint() throws {
        let disk = path("disk")
        // Room for one 190 KiB checkpoint, not for its replacement too; without the time scrubber's weight history
        // (`--snapshot-budget 0`), which would fill the disk first.
        try mountTmpfs(disk, size: "320k")
        let checkpoint = (disk as NSString).appendingPathComponent("model.safetensors")
        let first = try Convscope.run([
            "train", "--model", "tiny", "--data", "synthetic", "--epochs", "1", "--batch", "64", "--train-limit", "640",
            "--checkpoint", checkpoint, "--metrics", path("model.jsonl"), "--snapshot-budget", "0",
        ])
        XCTAssertEqual(first.status, 0, first.stderr)
        let old = try Data(contentsOf: URL(fileURLWithPath: checkpoint))

        let full = try Convscope.run(["train", "--resume", "--checkpoint", checkpoint, "--data", "synthetic", "--epochs", "2", "--snapshot-budget", "0"])
        assertOneLineError(full, contains: ["cannot write '\(checkpoint)'", "No space left on device"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: checkpoint)), old)
        XCTAssertEqual(temporaries(in: disk), [])

        XCTAssertEqual(try TmuxDriver.run(["mount", "-o", "remount,ro", disk]).status, 0)
        let readOnly = try Convscope.run(["train", "--resume", "--checkpoint", checkpoint, "--data", "synthetic", "--epochs", "2", "--snapshot-budget", "0"])
        assertOneLineError(readOnly, contains: ["cannot write '\(checkpoint)'", "Read-only file system"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: checkpoint)), old)
    }
}

extension Convscope {
    /// A `convscope` process left running, its output going to files in `folder`.
    final class Spawned {
        private let process = Process()
        private let outPath: String, errPath: String

        init(_ arguments: [String], folder: String) throws {
            let id = UUID().uuidString.prefix(8)
            outPath = (folder as NSString).appendingPathComponent("stdout-\(id).log")
            errPath = (folder as NSString).appendingPathComponent("stderr-\(id).log")
            for path in [outPath, errPath] { _ = FileManager.default.createFile(atPath: path, contents: nil) }
            process.executableURL = URL(fileURLWithPath: try Convscope.binary)
            process.arguments = arguments
            var environment = ProcessInfo.processInfo.environment
            environment.removeValue(forKey: "CONVSCOPE_DATA")
            process.environment = environment
            process.standardOutput = FileHandle(forWritingAtPath: outPath)
            process.standardError = FileHandle(forWritingAtPath: errPath)
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }

        var isRunning: Bool { process.isRunning }

        func signal(_ number: Int32) { kill(process.processIdentifier, number) }

        /// Waits until standard output contains `text` (fails after `timeout` seconds or when the process ends).
        func waitForOutput(_ text: String, timeout: Double = 60) throws {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if let output = try? String(contentsOfFile: outPath, encoding: .utf8), output.contains(text) { return }
                guard process.isRunning else { break }
                usleep(5000)
            }
            XCTFail("'\(text)' never appeared on standard output")
            throw CocoaError(.fileReadUnknown)
        }

        /// Waits for the end; the status is 128 + the signal when a signal ended it.
        func wait() -> Result {
            process.waitUntilExit()
            let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
            let read = { (path: String) in (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
            let result = Result(status: status, stdout: read(outPath), stderr: read(errPath))
            try? FileManager.default.removeItem(atPath: outPath)
            try? FileManager.default.removeItem(atPath: errPath)
            return result
        }
    }
}
