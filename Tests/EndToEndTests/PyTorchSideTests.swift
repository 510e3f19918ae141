import ConvKit
import Foundation
import TestSupport
import XCTest

/// The PyTorch side in `python/convscope_torch` against the engine: the same synthetic images byte for
/// byte, a two-process `torchrun` run whose run directory `RunDirectory` reads, and the same logits from
/// the same checkpoint in both directions (PyTorch-written into ConvScope, ConvScope-written into PyTorch).
///
/// They need a Python with torch, safetensors and numpy (`CONVSCOPE_PYTHON`, or `~/torchref/bin/python`,
/// see ../shared/bench/README.md) and skip loudly without one.
final class PyTorchSideTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let package = repository.appendingPathComponent("python").path

    private var temporary: TemporaryFolder!
    private var folder: String { temporary.path }

    override func setUpWithError() throws {
        temporary = try TemporaryFolder("torch")
    }

    override func tearDown() {
        temporary = nil
    }

    private func path(_ name: String) -> String { temporary.path(name) }

    /// A Python with torch, safetensors and numpy (`PythonFinder`), or a loud skip.
    static func python() throws -> String {
        guard let python = PythonFinder.torch() else {
            throw skip(.noTorch, "no Python with torch, safetensors and numpy (tried \(PythonFinder.candidates()); set CONVSCOPE_PYTHON); the PyTorch side was not tested")
        }
        return python
    }

    /// Runs `executable` with the package importable; standard error goes to a file (no pipe deadlock).
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Convscope.Result {
        let path = package + (ProcessInfo.processInfo.environment["PYTHONPATH"].map { ":" + $0 } ?? "")
        let result = try TestProcess.run(executable, arguments, environment: ["PYTHONPATH": path].merging(environment) { $1 })
        return Convscope.Result(status: result.status, stdout: result.output, stderr: result.errors)
    }

    /// PyTorch's logits for the first `count` synthetic test images (seed 0) under a checkpoint.
    private func torchLogits(_ python: String, checkpoint: String, count: Int) throws -> [[Double]] {
        let script = """
            import json, sys, torch
            from convscope_torch import load_checkpoint, load_synthetic, normalize
            model, _ = load_checkpoint(sys.argv[1])
            data = load_synthetic(train_count=0, test_count=int(sys.argv[2]))
            with torch.no_grad():
                print(json.dumps(model(normalize(data.test_images)).double().tolist()))
            """
        let result = try Self.run(python, ["-c", script, checkpoint, String(count)])
        XCTAssertEqual(result.status, 0, result.stderr)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[Double]])
    }

    /// Our logits for the same images, and the check that they agree to 1e-4 (relative to 1 or the value).
    private func assertLogitsAgree(_ network: Network, _ theirs: [[Double]], _ what: String) {
        let images = SyntheticDataset.images(seed: 0, split: 1, count: theirs.count)
        let buffer = FloatBuffer()
        for (i, row) in theirs.enumerated() {
            let ours = network.infer(BatchAssembler().tensor(images, index: i, into: buffer)).array
            XCTAssertEqual(ours.count, row.count, what)
            for (a, b) in zip(ours, row) {
                XCTAssertEqual(Double(a), b, accuracy: 1e-4 * max(1, abs(b)), "\(what): image \(i) logits \(ours) vs \(row)")
            }
        }
    }

    func testSyntheticImagesAreTheEnginesByteForByte() throws {
        let python = try Self.python()
        // The whole default set of seed 0 (what --data synthetic trains and tests on) and another seed,
        // drawn by one Python process (`python -m convscope_torch.synthetic` per file would import torch thrice).
        let sets: [(seed: Int, split: String, count: Int)] = [(0, "train", 10_000), (0, "test", 2_000), (7, "test", 300)]
        let script = """
            import sys
            from convscope_torch import synthetic
            for seed, split, count, out in zip(*[iter(sys.argv[1:])] * 4):
                synthetic.main(["--seed", seed, "--split", split, "--count", count, "--out", out])
            """
        let files = sets.map { path("synthetic-\($0.seed)-\($0.split).bin") }
        let arguments = zip(sets, files).flatMap { ["\($0.seed)", $0.split, "\($0.count)", $1] }
        let result = try Self.run(python, ["-c", script] + arguments)
        XCTAssertEqual(result.status, 0, result.stderr)
        for ((seed, split, count), file) in zip(sets, files) {
            let theirs = try CIFAR10Loader.loadFile(file)
            let ours = SyntheticDataset.images(seed: UInt64(seed), split: split == "train" ? 0 : 1, count: count)
            XCTAssertEqual(theirs.labels, ours.labels)
            guard theirs.pixels != ours.pixels else { continue }
            let differing = (0..<count).filter { theirs.image($0) != ours.image($0) }
            let bytes = zip(theirs.pixels, ours.pixels).filter { $0 != $1 }.count
            XCTFail("seed \(seed) \(split): \(differing.count) of \(count) images differ (\(bytes) bytes), first \(differing.prefix(5))")
        }
    }

    func testATwoProcessTorchrunRunIsReadByRunDirectoryAndItsCheckpointByTheEngine() throws {
        let python = try Self.python()
        let runDirectory = path("ddp")
        let script = Self.repository.appendingPathComponent("python/examples/train.py").path
        let spec = "conv8,bn,relu,res8,res16s2m12,maxpool,dropout,conv16,bn,gelu,gap,fc10"
        // 640 images, batch 64 split over two gloo processes: 10 steps, a metrics line every 2, a
        // checkpoint at step 5 and after the epoch.
        let result = try Self.run(
            python,
            [
                "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", script, "--data", "synthetic",
                "--model", spec, "--epochs", "1", "--batch", "64", "--train-limit", "640", "--run-dir", runDirectory,
                "--log-every", "2", "--checkpoint-every", "5", "--device", "cpu",
            ], environment: ["OMP_NUM_THREADS": "1"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("[SYNTHETIC] epoch 1/1"), result.stdout)
        XCTAssertEqual(result.stdout.components(separatedBy: "final test accuracy").count, 2, "only rank 0 prints: \(result.stdout)")

        var reader = try RunDirectory(path: runDirectory)
        let update = reader.poll()
        XCTAssertEqual(update.issues, [])
        let manifest = try XCTUnwrap(reader.manifest)
        XCTAssertEqual(manifest.spec, spec)
        XCTAssertEqual(manifest.dataset, "SYNTHETIC")
        XCTAssertEqual(manifest.classes, SyntheticDataset.classNames)
        XCTAssertEqual(manifest.stepsPerEpoch, 10)
        XCTAssertTrue(manifest.writer?.hasPrefix("convscope_torch") ?? false)
        XCTAssertEqual(reader.history.history.steps.map(\.step), [2, 4, 6, 8, 10])
        XCTAssertTrue(reader.history.history.steps.allSatisfy { $0.loss.isFinite && $0.loss > 0 && (0...1).contains($0.accuracy) })
        let evaluation = try XCTUnwrap(reader.history.latestEval)
        XCTAssertEqual(evaluation.step, 10)
        XCTAssertEqual(evaluation.epoch, 1)
        XCTAssertEqual(reader.checkpoints.map(\.step), [5, 10])
        XCTAssertEqual(reader.checkpoints.map(\.epoch), [0, 1])
        let files = try FileManager.default.contentsOfDirectory(atPath: runDirectory + "/checkpoints")
        XCTAssertEqual(files.filter { $0.hasPrefix(".") }, [], "no temporary file is left behind")

        // The PyTorch checkpoint loads into the engine and scores as PyTorch does.
        let latest = try XCTUnwrap(reader.latestCheckpoint)
        let loaded = try latest.load()
        XCTAssertEqual(loaded.network.spec.text, spec)
        XCTAssertEqual(latest.classNames(count: 10), SyntheticDataset.classNames)
        assertLogitsAgree(loaded.network, try torchLogits(python, checkpoint: latest.path, count: 8), "torchrun checkpoint")
        // And its test accuracy is the one the run reported (rank 0's batch-norm statistics on both sides):
        // within 2 of the 2,000 images, for predictions that rounding can tip between two near-equal scores.
        let test = SyntheticDataset.images(seed: 0, split: 1, count: 2_000)
        let accuracy = Evaluator.evaluate(loaded.network, on: test).accuracy
        XCTAssertEqual(Double(accuracy), try XCTUnwrap(evaluation.testAccuracy), accuracy: 2.0 / 2_000)
    }

    func testAConvScopeRunDirectoryCheckpointScoresTheSameInPyTorch() throws {
        let python = try Self.python()
        let runDirectory = path("own")
        let train = try Convscope.run([
            "train", "--model", "conv8,bn,relu,maxpool,res16s2,avgpool,flatten,fc32,relu,dropout,fc10", "--data", "synthetic",
            "--epochs", "1", "--batch", "64", "--train-limit", "320", "--run-dir", runDirectory,
        ])
        XCTAssertEqual(train.status, 0, train.stderr)
        var reader = try RunDirectory(path: runDirectory)
        XCTAssertEqual(reader.poll().issues, [])
        XCTAssertEqual(reader.history.history.steps.map(\.step), Array(1...5), "a line per step")
        XCTAssertEqual(reader.history.history.epochs.count, 1)
        let latest = try XCTUnwrap(reader.latestCheckpoint)
        XCTAssertEqual(latest.step, 5)
        assertLogitsAgree(try latest.load().network, try torchLogits(python, checkpoint: latest.path, count: 8), "convscope checkpoint")
    }
}
