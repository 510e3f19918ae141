import ArgumentParser
import ConvKit
import Foundation

/// `convscope bench`: training and inference throughput on random data, optionally against PyTorch.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure training (batch 128 unless --batch) and inference (batch 256) images/s on all cores.",
        discussion: """
            Same protocol as ../shared/bench/torch_reference.py: SGD-momentum steps on random CIFAR-shaped data, \
            3 warm-up steps, median of 3 runs of 20 steps. --compare runs that PyTorch reference in the same \
            command (with its tuned allocator settings) and prints the ratios. For OpenBLAS's best kernel, run \
            with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (`make bench` does).
            """)

    @Option(name: .long, help: "Comma-separated presets or one spec string.")
    var model = "tiny,simple,resnet20,vgg"

    @Option(name: .long, help: "Images per training step (the PyTorch reference's 128; --recipe airbench trains at 2000).")
    var batch = Benchmark.referenceTrainBatch

    @Option(name: .long, help: "Timed steps per repeat.")
    var iterations = 20

    @Option(name: .long, help: "Kernel paths to measure, comma-separated: portable, avx2, avx512, or all the CPU runs (default: the best, or CONVSCOPE_KERNELS).")
    var kernels: String?

    @Flag(name: .customLong("list-kernels"), help: "Print the kernel paths this CPU runs, one per line, the best last, and exit.")
    var listKernels = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "fp32, or bf16: bf16 operands in the convolution and fully connected products with fp32 sums (CPUs with avx512_bf16).",
            discussion: "With --compare, PyTorch runs with --precision bf16 too (torch.autocast on the CPU with bfloat16)."))
    var precision = Precision.fp32

    @Flag(name: .long, help: "Print one JSON object per model.")
    var json = false

    @Flag(name: .long, help: "Show milliseconds per training step spent in each layer's forward and backward pass.")
    var profile = false

    @Flag(name: .long, help: "Also run PyTorch's reference benchmark and print the speed ratios.")
    var compare = false

    @Option(name: .long, help: "Python with torch for --compare.")
    var python = "\(NSHomeDirectory())/torchref/bin/python"

    @Option(name: .long, help: "PyTorch reference script for --compare.")
    var reference = "../shared/bench/torch_reference.py"

    @Flag(
        name: .long,
        help: ArgumentHelp(
            "Time one whole training epoch on CIFAR-10 as `convscope train` runs it (default recipe), beside the steps alone.",
            discussion: "Augmentation, the steps and the test evaluation on the real data; prints the epoch's step images/s against this bench's, its wall time and CPU use. With --compare, also runs --train-reference for one epoch of the same model and prints the ratio of the epoch times."))
    var epoch = false

    @Option(name: .customLong("train-reference"), help: "PyTorch training script for --epoch --compare.")
    var trainReference = "../shared/bench/train_reference.py"

    @Option(name: .customLong("train-limit"), help: "With --epoch: an epoch of only the first N training images (not with --compare).")
    var trainLimit: Int?

    @OptionGroup var data: DataOptions

    func validate() throws {
        for name in models { try validateModel(name) }
        _ = try paths
        guard batch >= 1 else { throw ValidationError("--batch \(batch) must be at least 1") }
        for name in models {
            try requireMemory(name, for: .training(batch: batch, optimizer: .sgd))
            try requireMemory(name, for: .inference(batch: Benchmark().inferBatch))
        }
        if precision != .fp32 {
            for path in try paths {
                if case .failure(let problem) = precision.arithmetic(on: path) {
                    throw RuntimeError("--precision \(precision) \(problem)")
                }
            }
            if epoch && compare {
                throw ValidationError("--epoch --compare has no bf16 reference (train_reference.py trains in fp32); leave out --compare or --precision")
            }
        }
        if epoch && profile { throw ValidationError("--epoch and --profile are separate measurements; choose one") }
        if epoch && json { throw ValidationError("--epoch prints a table; leave out --json") }
        if let trainLimit {
            guard epoch else { throw ValidationError("--train-limit applies to --epoch only") }
            guard trainLimit >= batch else { throw ValidationError("--train-limit \(trainLimit) must be at least one batch (\(batch) images)") }
            if compare { throw ValidationError("--epoch --compare times full epochs (the PyTorch script trains on all 50,000 images); leave out --train-limit") }
        }
        if compare && epoch {
            guard FileManager.default.fileExists(atPath: trainReference) else {
                throw ValidationError("--train-reference \(trainReference) does not exist (../shared/bench/train_reference.py)")
            }
        }
        if compare {
            guard batch == Benchmark.referenceTrainBatch else {
                throw ValidationError(
                    "--compare measures at the reference's batch of \(Benchmark.referenceTrainBatch), not --batch \(batch)")
            }
            guard models.allSatisfy({ name in ModelSpec.presets.contains { $0.name == name } }) else {
                throw ValidationError("--compare takes presets (tiny, simple, vgg, resnet20): the reference script splits --models at commas")
            }
            guard FileManager.default.isExecutableFile(atPath: python) else {
                throw ValidationError("--python \(python) is not an executable Python (one with torch is needed for --compare)")
            }
            guard FileManager.default.fileExists(atPath: reference) else {
                throw ValidationError("--reference \(reference) does not exist (../shared/bench/torch_reference.py)")
            }
        }
    }

    /// The presets named in `--model`, or the one spec string it holds.
    var models: [String] {
        let pieces = model.split(separator: ",").map(String.init)
        return pieces.allSatisfy { piece in ModelSpec.presets.contains { $0.name == piece } } ? pieces : [model]
    }

    /// The kernel paths `--kernels` names, or the one in use.
    private var paths: [KernelPath] {
        get throws {
            guard let kernels else { return [KernelPath.active] }
            if kernels == "all" { return KernelPath.supported }
            return try kernels.split(separator: ",").map { name in
                guard let path = KernelPath(name: String(name)), String(name) != "auto" else {
                    throw ValidationError("--kernels takes portable, avx2, avx512 or all, not '\(name)'")
                }
                guard path <= KernelPath.best else {
                    throw ValidationError("--kernels \(name): this CPU runs only \(KernelPath.supported.map(\.description).joined(separator: ", "))")
                }
                return path
            }
        }
    }

    func run() throws {
        if listKernels {
            for path in KernelPath.supported { print(path) }
            return
        }
        for path in try paths {
            path.select()
            try measure()
        }
    }

    private func measure() throws {
        var benchmark = Benchmark()
        benchmark.arithmetic = try precision.arithmetic.get()
        benchmark.iterations = iterations
        benchmark.trainBatch = batch
        if profile {
            for name in models { try printProfile(benchmark, name) }
            return
        }
        if epoch { return try measureEpochs(benchmark) }
        if !json {
            print("threads \(Parallel.workerCount), kernels \(KernelPath.active), OpenBLAS kernel \(BLAS.coreDescription), training batch \(batch), products \(benchmark.arithmetic)")
            print("model".padding(toLength: 10, withPad: " ", startingAt: 0) + "  train img/s  infer img/s" + (compare ? "   torch train  torch infer  ratio train  ratio infer" : ""))
        }
        for name in models {
            let ours = try benchmark.run(model: name)
            var object: [String: Any] = [
                "model": ours.model, "threads": ours.threads, "kernels": KernelPath.active.description, "blas_core": ours.blasCore,
                "train_batch": batch, "precision": precision.rawValue,
                "train_images_per_s": (ours.trainImagesPerSecond * 10).rounded() / 10,
                "infer_images_per_s": (ours.inferImagesPerSecond * 10).rounded() / 10,
            ]
            var line = name.padding(toLength: 10, withPad: " ", startingAt: 0)
                + String(format: "  %11.1f  %11.1f", ours.trainImagesPerSecond, ours.inferImagesPerSecond)
            if compare {
                let torch = try runReference(name)
                let trainRatio = ours.trainImagesPerSecond / torch.train, inferRatio = ours.inferImagesPerSecond / torch.infer
                object["torch_train_images_per_s"] = torch.train
                object["torch_infer_images_per_s"] = torch.infer
                object["train_ratio"] = (trainRatio * 1000).rounded() / 1000
                object["infer_ratio"] = (inferRatio * 1000).rounded() / 1000
                line += String(format: "  %12.1f  %11.1f  %11.2fx  %11.2fx", torch.train, torch.infer, trainRatio, inferRatio)
            }
            if json { try printJSON(object) } else { print(line) }
        }
    }

    private func printProfile(_ benchmark: Benchmark, _ name: String) throws {
        print("\(name): milliseconds per training step of \(benchmark.trainBatch) images (fastest of 10 steps, kernels \(KernelPath.active), products \(benchmark.arithmetic))")
        print("layer        forward  backward")
        let rows = try benchmark.profile(model: name)
        for row in rows {
            print(row.layer.padding(toLength: 10, withPad: " ", startingAt: 0) + String(format: "  %8.2f  %8.2f", row.forward, row.backward))
        }
        print(String(format: "total       %8.2f  %8.2f", rows.map(\.forward).reduce(0, +), rows.map(\.backward).reduce(0, +)))
    }

    /// Runs ../shared/bench/torch_reference.py for one model with its recommended allocator settings.
    func runReference(_ name: String) throws -> (train: Double, infer: Double) {
        let run = try runPython([
            reference, "--models", name, "--threads", String(Parallel.workerCount), "--iters", String(iterations), "--precision",
            precision.rawValue,
        ])
        for object in run.objects {
            guard let train = object["train_images_per_s"] as? Double, let infer = object["infer_images_per_s"] as? Double else { continue }
            return (train, infer)
        }
        throw RuntimeError("the PyTorch reference \(reference) printed no result (exit \(run.status)); is torch installed for \(python)?")
    }

    /// Runs `--python` with `arguments` and PyTorch's recommended allocator settings (glibc keeps large
    /// buffers instead of returning them every step): the JSON objects it printed, one a line, and its exit status.
    func runPython(_ arguments: [String]) throws -> (objects: [[String: Any]], status: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["MALLOC_MMAP_MAX_"] = "0"
        environment["MALLOC_TRIM_THRESHOLD_"] = "100000000000"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let objects = output.split(separator: "\n").compactMap { line in
            try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        }
        return (objects, process.terminationStatus)
    }
}
