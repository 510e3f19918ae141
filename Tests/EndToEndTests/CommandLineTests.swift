import Foundation
import TestSupport
import XCTest
import ConvKit
import ConvRender

/// The `convscope` binary as scripts use it: exit codes, messages, JSON, files.
final class CommandLineTests: XCTestCase {
    private var temporary: TemporaryFolder!
    private var folder: String { temporary.path }

    override func setUpWithError() throws {
        temporary = try TemporaryFolder("cli")
    }

    override func tearDown() {
        temporary = nil
    }

    private func path(_ name: String) -> String { temporary.path(name) }

    /// A small synthetic run shared by the tests that need a checkpoint.
    private func trainedCheckpoint(model: String = "tiny") throws -> String {
        let checkpoint = path("model.safetensors")
        let run = try Convscope.run([
            "train", "--model", model, "--data", "synthetic", "--epochs", "1", "--batch", "64", "--train-limit", "640",
            "--checkpoint", checkpoint,
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        return checkpoint
    }

    func testHelpVersionAndExitCodes() throws {
        let help = try Convscope.run(["--help"])
        XCTAssertEqual(help.status, 0)
        for command in ["train", "eval", "predict", "summary", "gradcam", "export", "prune", "quantize", "distill", "bench", "download"] {
            XCTAssertTrue(help.stdout.contains(command), "--help lists \(command)")
        }
        XCTAssertEqual(try Convscope.run(["--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines), "0.1.0")
        let usage = try Convscope.run(["train", "--epochs", "zero"])
        XCTAssertEqual(usage.status, 2, "a usage error exits 2")
        XCTAssertTrue(usage.stderr.contains("--epochs"), usage.stderr)
        let missing = try Convscope.run(["eval", "--checkpoint", path("absent.safetensors"), "--data", "synthetic"])
        XCTAssertEqual(missing.status, 1, "a runtime failure exits 1")
        XCTAssertTrue(missing.stderr.contains("absent.safetensors"), missing.stderr)
        XCTAssertEqual(missing.stderr.split(separator: "\n").count, 1, "one line: \(missing.stderr)")
    }

    func testSummaryTableAndJSON() throws {
        let table = try Convscope.run(["summary", "--model", "resnet20"])
        XCTAssertEqual(table.status, 0)
        XCTAssertTrue(table.stdout.contains("res7.shortcut.conv"))
        XCTAssertTrue(table.stdout.contains("272,474"))
        let json = try Convscope.run(["summary", "--model", "conv8k5s2p0,relu,gap,fc10", "--json"])
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let layers = try XCTUnwrap(object["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.first?["output"] as? String, "8x14x14")
        XCTAssertEqual(object["total_params"] as? Int, 3 * 8 * 25 + 8 + 8 * 10 + 10)
        let bad = try Convscope.run(["summary", "--model", "conv8,pool,fc10"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderr.contains("token 2 'pool': unknown layer"), bad.stderr)
    }

    func testTrainEvalPredictOnTheSyntheticSet() throws {
        let checkpoint = try trainedCheckpoint()
        let metrics = path("model.jsonl")
        let lines = try String(contentsOfFile: metrics, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 1)
        let epoch = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        XCTAssertEqual(epoch["dataset"] as? String, "SYNTHETIC")
        XCTAssertNotNil(epoch["test_acc"] as? Double)

        let eval = try Convscope.run(["eval", "--checkpoint", checkpoint, "--data", "synthetic", "--json"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let result = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(result["dataset"] as? String, "SYNTHETIC")
        XCTAssertEqual(result["accuracy"] as? Double ?? -1, epoch["test_acc"] as? Double ?? -2, accuracy: 1e-6,
                       "eval reproduces the accuracy measured after training")
        let views = try Convscope.run(["eval", "--checkpoint", checkpoint, "--data", "synthetic", "--tta", "flip+translate"])
        XCTAssertEqual(views.status, 0, views.stderr)
        XCTAssertTrue(views.stdout.contains("(flip+translate averaging)"), views.stdout)
        let badViews = try Convscope.run(["eval", "--checkpoint", checkpoint, "--data", "synthetic", "--tta", "rotate"])
        XCTAssertEqual(badViews.status, 2)
        XCTAssertTrue(
            badViews.stderr.contains("The value 'rotate' is invalid for '--tta <tta>'. Please provide one of 'none', 'flip' or 'flip+translate'"),
            badViews.stderr)

        let predict = try Convscope.run(["predict", "--checkpoint", checkpoint, "--data", "synthetic", "--index", "0", "7", "--json"])
        XCTAssertEqual(predict.status, 0, predict.stderr)
        let prediction = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(predict.stdout.utf8)) as? [String: Any])
        let images = try XCTUnwrap(prediction["images"] as? [[String: Any]])
        XCTAssertEqual(images.map { $0["index"] as? Int }, [0, 7])
        let logits = try XCTUnwrap(images[1]["logits"] as? [Double])
        let probabilities = try XCTUnwrap(images[1]["probabilities"] as? [Double])
        XCTAssertEqual(logits.count, 10)
        XCTAssertEqual(probabilities.reduce(0, +), 1, accuracy: 1e-5)
        XCTAssertEqual(images[1]["predicted"] as? Int, logits.indices.max { logits[$0] < logits[$1] })

        let human = try Convscope.run(["predict", "--checkpoint", checkpoint, "--data", "synthetic", "--index", "3"])
        XCTAssertTrue(human.stdout.contains("image 3: truth"), human.stdout)
    }

    /// `--recipe airbench` from the command line: its header names the recipe's pieces, and Muon is refused as a
    /// plain `--optimizer` (its rates only make sense inside the recipe).
    func testAirbenchRecipe() throws {
        let checkpoint = path("fast.safetensors")
        let run = try Convscope.run([
            "train", "--recipe", "airbench", "--model", "conv8,gelu,conv8,maxpool,bn,gelu,gap,fc10", "--data", "synthetic",
            "--epochs", "1", "--batch", "64", "--train-limit", "256", "--checkpoint", checkpoint,
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        for piece in [
            "muon lr 0.24", "batch 64", "alternating flips", "flip+translate TTA", "bn biases only at 441x lr", "crop(reflect)",
            "bias-free fc", "whitening bias for the first 1 epoch,",
        ] {
            XCTAssertTrue(run.stderr.contains(piece), "header names \(piece): \(run.stderr)")
        }
        // `eval` of the checkpoint mirrors the shifted views' borders as the run did, so it repeats the run's
        // final (six-view) accuracy.
        XCTAssertTrue(RunCheckpoint.reflectsBorders(try RunCheckpoint.load(checkpoint).metadata))
        let final = try XCTUnwrap(run.stdout.range(of: #"final test accuracy [0-9.]+%"#, options: .regularExpression).map { run.stdout[$0] })
        let evaluated = try Convscope.run(["eval", "--checkpoint", checkpoint, "--data", "synthetic", "--tta", "flip+translate", "--json"])
        XCTAssertEqual(evaluated.status, 0, evaluated.stderr)
        let accuracy = try XCTUnwrap(
            (try JSONSerialization.jsonObject(with: Data(evaluated.stdout.utf8)) as? [String: Any])?["accuracy"] as? Double)
        XCTAssertEqual(final, "final test accuracy \(String(format: "%.2f", accuracy * 100))%")
        let plain = try Convscope.run(["train", "--optimizer", "muon", "--data", "synthetic", "--epochs", "1"])
        XCTAssertEqual(plain.status, 2)
        XCTAssertTrue(plain.stderr.contains("--optimizer must be sgd, adam or adamw, not 'muon' (Muon comes with --recipe airbench)"), plain.stderr)
        let unknown = try Convscope.run(["train", "--recipe", "slow", "--data", "synthetic"])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.stderr.contains("--recipe <recipe>': must be standard, airbench or quick, not 'slow'"), unknown.stderr)
        // Retired names are refused with where they went (`fast` was this recipe until 2026-12-03).
        for (old, pointer) in [("muon", "the Muon recipe is now called airbench"), ("fast", "the 94% recipe is now called airbench")] {
            let renamed = try Convscope.run(["train", "--recipe", old, "--data", "synthetic"])
            XCTAssertEqual(renamed.status, 2)
            XCTAssertTrue(renamed.stderr.contains("not '\(old)' (\(pointer)"), renamed.stderr)
        }
        let oldPreset = try Convscope.run(["train", "--model", "fast", "--data", "synthetic"])
        XCTAssertEqual(oldPreset.status, 2)
        XCTAssertTrue(oldPreset.stderr.contains("the preset 'fast' is now called 'quick'"), oldPreset.stderr)
        // `--recipe quick` is the look-ahead recipe on the `quick` preset.
        let quick = try Convscope.run(["train", "--recipe", "quick", "--data", "synthetic", "--epochs", "1", "--train-limit", "64"])
        XCTAssertEqual(quick.status, 0, quick.stderr)
        for piece in ["sgd lr 0.2", "batch 256", "look-ahead", "bn biases only at 64x lr", "conv32,relu,conv32,maxpool"] {
            XCTAssertTrue(quick.stderr.contains(piece), "header names \(piece): \(quick.stderr)")
        }
    }

    func testResumeContinuesTheRun() throws {
        let checkpoint = try trainedCheckpoint()
        let resumed = try Convscope.run([
            "train", "--resume", "--checkpoint", checkpoint, "--data", "synthetic", "--epochs", "2",
        ])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming"), resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("after 2 epochs"), resumed.stdout)
        XCTAssertEqual(try RunCheckpoint.load(checkpoint).epoch, 2)
    }

    func testGradCAMWritesAPNGAndRawJSON() throws {
        let checkpoint = try trainedCheckpoint()
        let out = path("heat.png")
        let run = try Convscope.run([
            "gradcam", "--checkpoint", checkpoint, "--data", "synthetic", "--index", "5", "--class", "2", "--out", out,
            "--json", "--size", "64",
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["layer"] as? String, "relu3", "default: the last layer with a spatial output")
        XCTAssertEqual(object["class"] as? Int, 2)
        XCTAssertEqual(object["method"] as? String, "gradcam")
        let map = try XCTUnwrap(object["map"] as? [[Double]])
        XCTAssertEqual(map.count, 8)
        XCTAssertEqual(map[0].count, 8)
        let png = try PNG.read(contentsOf: out)
        XCTAssertEqual(png.width, 64)
        XCTAssertEqual(png.height, 64)

        let camOnVGGLike = try Convscope.run([
            "gradcam", "--checkpoint", checkpoint, "--data", "synthetic", "--index", "0", "--method", "cam", "--layer", "conv1",
            "--json",
        ])
        XCTAssertEqual(camOnVGGLike.status, 1)
        XCTAssertTrue(camOnVGGLike.stderr.contains("CAM is defined at the layer that feeds gap"), camOnVGGLike.stderr)

        // A photo of any size goes through area averaging to 32x32.
        var photo = RGBImage(width: 50, height: 40, color: (200, 30, 30))
        photo.fill(x: 10, y: 10, width: 20, height: 20, color: (10, 10, 240))
        let photoPath = path("photo.png")
        try PNG.write(photo, to: photoPath)
        let fromPhoto = try Convscope.run(["gradcam", "--checkpoint", checkpoint, "--image", photoPath, "--out", path("p.png"), "--style", "strip"])
        XCTAssertEqual(fromPhoto.status, 0, fromPhoto.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("p.png")))

        let unwritable = try Convscope.run(["gradcam", "--checkpoint", checkpoint, "--data", "synthetic", "--index", "1", "--out", "/proc/nope/heat.png"])
        XCTAssertEqual(unwritable.status, 1)
        XCTAssertTrue(unwritable.stderr.contains("/proc/nope/heat.png"), unwritable.stderr)
    }

    func testExportFiltersAndFeatureGrids() throws {
        let checkpoint = try trainedCheckpoint()
        for (what, layer) in [("filters", "conv1"), ("filters", "conv2"), ("features", "relu2")] {
            let out = path("\(what)-\(layer).png")
            let run = try Convscope.run(["export", what, "--checkpoint", checkpoint, "--layer", layer, "--data", "synthetic", "--out", out, "--scale", "layer"])
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertGreaterThan(try PNG.read(contentsOf: out).width, 100)
        }
        let notConv = try Convscope.run(["export", "filters", "--checkpoint", checkpoint, "--layer", "relu1", "--out", path("x.png")])
        XCTAssertNotEqual(notConv.status, 0)
        XCTAssertTrue(notConv.stderr.contains("filters belong to conv layers"), notConv.stderr)
    }

    func testPruneQuantizeDistillPrintBeforeAfterTables() throws {
        let checkpoint = try trainedCheckpoint()
        for (arguments, row) in [(["--amount", "0.3"], "pruned"), (["--filters", "0.25"], "pruned")] {
            let out = path("pruned.safetensors")
            let run = try Convscope.run(["prune", "--checkpoint", checkpoint, "--out", out, "--data", "synthetic"] + arguments)
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertTrue(run.stdout.contains("non-zero") && run.stdout.contains("infer img/s"), run.stdout)
            XCTAssertTrue(run.stdout.contains("\n" + row), run.stdout)
            XCTAssertEqual(try Convscope.run(["eval", "--checkpoint", out, "--data", "synthetic"]).status, 0)
        }
        let int8 = path("int8.safetensors")
        let quantize = try Convscope.run(["quantize", "--checkpoint", checkpoint, "--out", int8, "--data", "synthetic", "--calibration", "128"])
        XCTAssertEqual(quantize.status, 0, quantize.stderr)
        XCTAssertTrue(quantize.stdout.contains("int8") && quantize.stdout.contains("float32"), quantize.stdout)
        let eval = try Convscope.run(["eval", "--checkpoint", int8, "--data", "synthetic"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertTrue(eval.stdout.contains("(int8)"), eval.stdout)
        let student = path("student.safetensors")
        let distill = try Convscope.run([
            "distill", "--teacher", checkpoint, "--model", "conv8,relu,maxpool,conv16,relu,gap,fc10", "--epochs", "1",
            "--train-limit", "320", "--batch", "64", "--checkpoint", student, "--data", "synthetic",
        ])
        XCTAssertEqual(distill.status, 0, distill.stderr)
        XCTAssertTrue(distill.stdout.contains("teacher") && distill.stdout.contains("student"), distill.stdout)
        XCTAssertEqual(try RunCheckpoint.load(student).metadata["distilled_from"], checkpoint)
        let both = try Convscope.run(["prune", "--checkpoint", checkpoint, "--out", path("x"), "--amount", "0.2", "--filters", "0.2"])
        XCTAssertEqual(both.status, 2, "--amount and --filters together is a usage error")
    }

    func testBenchJSON() throws {
        let run = try Convscope.run(["bench", "--model", "tiny", "--iterations", "2", "--batch", "32", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["model"] as? String, "tiny")
        XCTAssertEqual(object["train_batch"] as? Int, 32)
        XCTAssertGreaterThan(object["train_images_per_s"] as? Double ?? 0, 0)
        XCTAssertGreaterThan(object["infer_images_per_s"] as? Double ?? 0, 0)
        XCTAssertNotNil(object["threads"] as? Int)
        let badBatch = try Convscope.run(["bench", "--model", "tiny", "--batch", "0"])
        XCTAssertNotEqual(badBatch.status, 0)
        XCTAssertTrue(badBatch.stderr.contains("--batch 0 must be at least 1"), badBatch.stderr)
    }

    /// `bench --epoch` trains one real epoch (here of 256 synthetic images) and prints the step rate beside
    /// the plain bench's, the epoch's seconds and its CPU use.
    func testBenchEpoch() throws {
        let run = try Convscope.run([
            "bench", "--epoch", "--model", "tiny", "--data", "synthetic", "--train-limit", "256", "--batch", "64", "--iterations", "2",
        ])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("4 steps of 64 images, then the 2000-image test evaluation"), run.stdout)
        let row = try XCTUnwrap(run.stdout.split(separator: "\n").first { $0.hasPrefix("tiny ") }, run.stdout)
        let numbers = row.split(separator: " ").dropFirst().map { Double($0.trimmingCharacters(in: CharacterSet(charactersIn: "%"))) }
        XCTAssertEqual(numbers.count, 6, String(row))
        // bench img/s, epoch img/s, share of bench, epoch seconds, test seconds, CPU%: all measured, all positive.
        // (The test evaluation of `tiny` can round to 0.0 s on a fast machine.)
        for (index, number) in numbers.enumerated() { XCTAssertGreaterThanOrEqual(number ?? -1, index == 4 ? 0 : 0.001, String(row)) }
        XCTAssertGreaterThanOrEqual(numbers[3] ?? 0, numbers[4] ?? 0, "the epoch's seconds include its test evaluation")

        for (arguments, message) in [
            (["--epoch", "--profile"], "--epoch and --profile are separate measurements"),
            (["--train-limit", "500"], "--train-limit applies to --epoch only"),
            (["--epoch", "--train-limit", "100"], "--train-limit 100 must be at least one batch (128 images)"),
        ] {
            let refused = try Convscope.run(["bench", "--model", "tiny", "--data", "synthetic"] + arguments)
            XCTAssertNotEqual(refused.status, 0, arguments.joined(separator: " "))
            XCTAssertTrue(refused.stderr.contains(message), refused.stderr)
        }
    }

    /// OpenBLAS picks its kernels by CPU model and falls back to its oldest, SSE3-only ones on a model newer than
    /// its release (Debian 12's OpenBLAS on an Intel Xeon of family 6, model 207, which has AVX-512). The engine
    /// line shows that ConvScope then runs a family that uses the CPU's AVX2 or AVX-512, while an
    /// OPENBLAS_CORETYPE the user set is left as it is.
    func testOpenBLASRunsKernelsForTheVectorUnitsTheCPUHas() throws {
        guard KernelPath.best >= .avx2 else {
            throw XCTSkip("this CPU has no AVX2 and FMA: OpenBLAS's older kernels are the right ones for it")
        }
        func family(_ environment: [String: String]) throws -> (name: String, line: String) {
            let run = try Convscope.run(["bench", "--model", "tiny", "--iterations", "1", "--batch", "16"],
                                        environment: environment, removing: ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"])
            XCTAssertEqual(run.status, 0, run.stderr)
            let line = try XCTUnwrap(run.stdout.split(separator: "\n").first { $0.contains("OpenBLAS kernel ") }, run.stdout)
            let after = try XCTUnwrap(line.range(of: "OpenBLAS kernel ")).upperBound
            return (String(line[after...].prefix { $0 != " " && $0 != "," }), String(line))
        }
        let modern: Set<String> = ["haswell", "zen", "skylakex", "cooperlake", "sapphirerapids"]
        let chosen = try family([:])
        XCTAssertTrue(modern.contains(chosen.name.lowercased()), "a family that uses AVX2 or more: \(chosen.line)")
        let forced = try family(["OPENBLAS_CORETYPE": "Prescott"])
        XCTAssertEqual(forced.name, "Prescott", "an OPENBLAS_CORETYPE the user set stands: \(forced.line)")
        XCTAssertFalse(forced.line.contains("chosen by ConvScope"), forced.line)
    }
}

/// Runs the current `convscope` binary (`ConvscopeBinary`: `CONVSCOPE_BIN`, or `.build/release/convscope`).
enum Convscope {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The binary's path; throws (failing the test) when it is missing or older than the sources.
    static var binary: String {
        get throws { try ConvscopeBinary.path() }
    }

    /// Runs the binary with `arguments` (or, given `executable`, that program, e.g. a shell wrapping it).
    static func run(_ arguments: [String], environment: [String: String] = [:], removing: Set<String> = [],
                    executable: String? = nil) throws -> Result {
        // The tests' CONVSCOPE_DATA is theirs to pass: a command must not find the data by accident.
        let result = try TestProcess.run(executable ?? Self.binary, arguments, environment: environment,
                                         removing: removing.union(["CONVSCOPE_DATA"]))
        return Result(status: result.status, stdout: result.output, stderr: result.errors)
    }
}
