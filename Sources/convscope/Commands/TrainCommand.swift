import ArgumentParser
import ConvKit
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

    @Flag(name: .long, help: "Continue the run saved in --checkpoint (up to --epochs epochs).")
    var resume = false

    func validate() throws {
        if resume && checkpoint == nil { throw ValidationError("--resume needs --checkpoint FILE to continue from") }
    }

    func run() throws {
        let checkpointPath = checkpoint ?? defaultCheckpointName(training.model)
        let metricsPath = metrics ?? (checkpointPath.hasSuffix(".safetensors")
            ? String(checkpointPath.dropLast(".safetensors".count)) + ".jsonl" : checkpointPath + ".jsonl")
        let dataset = try data.load(trainLimit: training.trainLimit)
        let trainer: Trainer
        if resume {
            trainer = try RunCheckpoint.resume(checkpointPath, dataset: dataset, epochs: training.epochs)
            printError("resuming \(checkpointPath) after epoch \(trainer.completedEpochs) of \(trainer.config.epochs)")
        } else {
            trainer = try Trainer(config: training.config, dataset: dataset)
        }
        printError("model: \(trainer.network.spec.presetName.map { "\($0) = " } ?? "")\(trainer.network.spec.text)")
        printError("       \(trainer.network.parameterCount.formatted) parameters; \(trainer.config.summary)")
        printError("engine: \(Parallel.workerCount) threads, OpenBLAS \(BLAS.coreName)")
        if trainer.isFinished {
            printError("nothing to do: the run already has \(trainer.completedEpochs) epochs; raise --epochs to continue")
            return
        }
        let bar = ProgressBar()
        let tag = dataset.isSynthetic ? "[SYNTHETIC] " : ""
        var lastDraw = Date.distantPast
        while !trainer.isFinished {
            let outcome = trainer.step()
            switch outcome {
            case .step(let step):
                guard Date().timeIntervalSince(lastDraw) > 0.1 || !bar.isTerminal else { continue }
                lastDraw = Date()
                let rate = Double(trainer.stepInEpoch * trainer.config.batchSize) / max(trainer.epochSeconds, 1e-9)
                let remaining = Double(trainer.totalSteps - trainer.globalStep) * Double(trainer.config.batchSize) / max(rate, 1e-9)
                bar.update(
                    prefix: "\(tag)epoch \(trainer.completedEpochs + 1)/\(trainer.config.epochs)",
                    done: trainer.stepInEpoch, total: trainer.stepsPerEpoch,
                    suffix: String(
                        format: "loss %.4f  acc %5.1f%%  lr %.4f  %.0f img/s  ETA %@", step.loss, step.accuracy * 100,
                        step.learningRate, rate, formatDuration(remaining)))
            case let .epochFinished(_, epoch, _):
                bar.line(
                    String(
                        format: "%@epoch %d/%d  train loss %.4f acc %.2f%%  test loss %.4f acc %.2f%%  lr %.5f  %.1f s  %.0f img/s",
                        tag, epoch.epoch, trainer.config.epochs, epoch.trainLoss, epoch.trainAccuracy * 100, epoch.testLoss,
                        epoch.testAccuracy * 100, epoch.learningRate, epoch.seconds, epoch.imagesPerSecond))
                try RunCheckpoint.save(trainer, to: checkpointPath)
                var line = epoch.jsonObject
                line["model"] = trainer.network.spec.text
                line["dataset"] = dataset.displayName
                try appendJSONLine(line, to: metricsPath)
            }
        }
        bar.finish()
        let last = trainer.history.epochs.last!
        writeOut(
            String(
                format: "%@final test accuracy %.2f%% after %d epochs, %@ of training; saved %@, metrics in %@\n",
                tag, last.testAccuracy * 100, last.epoch, formatDuration(last.elapsedSeconds), checkpointPath, metricsPath))
    }
}

/// `simple.safetensors` for a preset, `model.safetensors` for a spec string.
func defaultCheckpointName(_ model: String) -> String {
    (ModelSpec.presets.first { $0.name == model.lowercased() }?.name ?? "model") + ".safetensors"
}

/// Appends one JSON object as a line to `path` (creating it).
func appendJSONLine(_ object: [String: Any], to path: String) throws {
    var data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
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
