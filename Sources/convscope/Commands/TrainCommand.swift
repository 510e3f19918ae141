import ArgumentParser
import ConvKit
import ConvPresent
import Foundation

/// `convscope train`: headless training with a progress bar, per-epoch evaluation and checkpoints.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model without the TUI: progress bar, test accuracy per epoch, checkpoint, metrics.",
        discussion: """
            Defaults are a strong plain recipe: SGD with Nesterov momentum 0.9, one-cycle learning rate peaking at \
            0.1, weight decay 5e-4, label smoothing 0.1, random crop and flip, batch 128. The checkpoint is written \
            after every epoch (atomically), so an interrupted run can go on with --resume. Metrics are appended to \
            a JSON-lines file, one line per epoch.
            """)

    @OptionGroup var data: DataOptions
    @OptionGroup var training: TrainingOptions

    @Option(name: .long, help: "Where to save the model (.safetensors); default <model>.safetensors.")
    var checkpoint: String?

    @Option(name: .long, help: "JSON-lines metrics file; default: the checkpoint path with .jsonl.")
    var metrics: String?

    @Option(
        name: .customLong("run-dir"),
        help: ArgumentHelp(
            "Write the run as a run directory, which other programs can follow while it grows (docs/run-directory.md).",
            discussion: "DIR/run.json, a metrics line per step and per epoch in DIR/metrics.jsonl, a checkpoint per epoch in DIR/checkpoints/. With --resume, the run in DIR continues from its latest checkpoint.",
            valueName: "dir"))
    var runDirectory: String?

    @Flag(name: .long, help: "Continue the run saved in --checkpoint or --run-dir (up to --epochs epochs).")
    var resume = false

    @Option(
        name: .customLong("health-every"),
        help: ArgumentHelp(
            "Steps between health records (per-layer histograms, norms, update ratios, dead units; docs/timeline.md); 0 turns them off.",
            discussion: "By default about 20 per epoch, plus steps 1, 2, 4, ... before the first, within 2% of training time.",
            valueName: "steps"))
    var healthEvery: Int?

    @OptionGroup var snapshots: SnapshotOptions

    func validate() throws {
        if runDirectory != nil && (checkpoint != nil || metrics != nil) {
            throw ValidationError("--run-dir keeps its own checkpoints and metrics; leave out --checkpoint and --metrics")
        }
        if resume && checkpoint == nil && runDirectory == nil {
            throw ValidationError("--resume needs --checkpoint FILE or --run-dir DIR to continue from")
        }
        if let healthEvery, healthEvery < 0 {
            throw ValidationError("--health-every \(healthEvery): expected a number of steps, 0 or more (0 turns recording off)")
        }
    }

    func run() throws {
        let checkpointPath = checkpoint ?? defaultCheckpointName(training.modelName)
        let metricsPath = metrics ?? (checkpointPath.hasSuffix(".safetensors")
            ? String(checkpointPath.dropLast(".safetensors".count)) + ".jsonl" : checkpointPath + ".jsonl")
        let dataset = try data.load(trainLimit: training.trainLimit)
        let trainer: Trainer
        if resume {
            // A run directory continues from its newest checkpoint that reads.
            let from = try runDirectory.map { try RunDirectoryWriter.latestCheckpoint(in: $0).path } ?? checkpointPath
            trainer = try RunCheckpoint.resume(from, dataset: dataset, epochs: training.epochs)
            printError("resuming \(from) after epoch \(trainer.completedEpochs) of \(trainer.config.epochs)")
        } else {
            trainer = try Trainer(config: training.config, dataset: dataset)
        }
        let writer = try runDirectory.map { try RunDirectoryWriter(path: $0, manifest: RunManifest(trainer: trainer), resume: resume) }
        printError("model: \(trainer.network.spec.presetName.map { "\($0) = " } ?? "")\(trainer.network.spec.text)")
        printError("       \(trainer.network.parameterCount.formatted) parameters; \(trainer.config.summary)")
        printError(
            "engine: \(Parallel.workerCount) threads, kernels \(KernelPath.active), OpenBLAS \(BLAS.coreDescription), products \(trainer.network.arithmetic)")
        if let writer { printError("run directory: \(writer.path)") }
        if let healthEvery { trainer.health.settings.every = healthEvery }
        snapshots.apply(to: trainer)
        try requireMemory(trainer)
        if let problem = trainer.weightHistoryProblem { printError("convscope: warning: \(SessionEventText.statusLine(.weightHistorySetAside(problem: problem)))") }
        if trainer.isFinished {
            printError("nothing to do: the run already has \(trainer.completedEpochs) epochs; raise --epochs to continue")
            return
        }
        try runTraining(
            trainer, checkpoint: writer?.checkpointsPath ?? checkpointPath, metrics: writer?.metricsPath ?? metricsPath,
            runDirectory: writer)
    }
}

/// `simple.safetensors` for a preset, `model.safetensors` for a spec string.
func defaultCheckpointName(_ model: String) -> String {
    (ModelSpec.presets.first { $0.name == model.lowercased() }?.name ?? "model") + ".safetensors"
}

/// Appends one JSON object as a line to `path` (creating it).
func appendJSONLine(_ object: [String: Any], to path: String) throws {
    var data = try FiniteJSON.data(object)
    data.append(0x0A)
    if !FileManager.default.fileExists(atPath: path) {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw FileError(path: path, action: "create", reason: String(cString: strerror(errno)))
        }
    }
    guard let handle = FileHandle(forWritingAtPath: path) else {
        throw FileError(path: path, action: "append to", reason: String(cString: strerror(errno)))
    }
    defer { try? handle.close() }
    try handle.seekToEnd()
    try handle.write(contentsOf: data)
}
