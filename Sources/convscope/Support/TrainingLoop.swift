import ConvKit
import Foundation

/// Trains until the run's planned epochs are done: a progress bar, one line per epoch, the checkpoint
/// saved (atomically) and a metrics line appended after every epoch. Shared by `train` and `distill`.
/// With `runDirectory`, the run goes there instead (a line per step and per epoch, a checkpoint per
/// epoch), and `checkpoint` and `metrics` only name its places in messages.
func runTraining(
    _ trainer: Trainer, checkpoint: String, metrics: String, extraMetadata: [String: String] = [:],
    runDirectory: RunDirectoryWriter? = nil
) throws {
    let dataset = trainer.dataset
    let bar = ProgressBar()
    let tag = dataset.isSynthetic ? "[SYNTHETIC] " : ""
    var lastDraw = Date.distantPast
    while !trainer.isFinished {
        let outcome = trainer.step()
        switch outcome {
        case .step(let step):
            try runDirectory?.recordStep(step, of: trainer)
            guard Date().timeIntervalSince(lastDraw) > 0.1 || !bar.isTerminal else { continue }
            lastDraw = Date()
            let rate = Double(trainer.stepInEpoch * trainer.config.batchSize) / max(trainer.epochSeconds, 1e-9)
            let remaining = Double(trainer.totalSteps - trainer.globalStep) * Double(trainer.config.batchSize) / max(rate, 1e-9)
            bar.update(
                prefix: "\(tag)epoch \(trainer.completedEpochs + 1)/\(trainer.config.epochs)",
                done: trainer.stepInEpoch, total: trainer.stepsPerEpoch,
                suffix: String(
                    format: "loss %.4f  acc %5.1f%%  lr %.4f  %.0f img/s  ETA %@", step.loss, step.accuracy * 100,
                    step.learningRate, rate, durationText(remaining)))
        case let .epochFinished(step, epoch, _):
            bar.line(
                String(
                    format: "%@epoch %d/%d  train loss %.4f acc %.2f%%  test loss %.4f acc %.2f%%  lr %.5f  %.1f s  %.0f img/s",
                    tag, epoch.epoch, trainer.config.epochs, epoch.trainLoss, epoch.trainAccuracy * 100, epoch.testLoss,
                    epoch.testAccuracy * 100, epoch.learningRate, epoch.seconds, epoch.imagesPerSecond))
            if let runDirectory {
                try runDirectory.recordEpoch(step, epoch, of: trainer, extraMetadata: extraMetadata)
                continue
            }
            try RunCheckpoint.save(trainer, to: checkpoint, extraMetadata: extraMetadata)
            var line = epoch.jsonObject
            line["model"] = trainer.network.spec.text
            line["dataset"] = dataset.displayName
            try appendJSONLine(line, to: metrics)
        }
    }
    bar.finish()
    let last = trainer.history.epochs.last!
    writeOut(
        String(
            format: "%@final test accuracy %.2f%% after %d epochs, %@ of training; saved %@, metrics in %@\n",
            tag, last.testAccuracy * 100, last.epoch, durationText(last.elapsedSeconds), checkpoint, metrics))
}
