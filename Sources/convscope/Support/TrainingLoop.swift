import ArgumentParser
import CCleanup
import ConvKit
import ConvPresent
import ConvScopeUI
import Foundation

/// Trains until the run's planned epochs are done: a progress bar, one line per epoch, the checkpoint
/// saved (atomically) and a metrics line appended after every epoch. Shared by `train` and `distill`.
///
/// With `runDirectory`, the run goes there instead (a line per step and per epoch, a checkpoint per
/// epoch), and `checkpoint` and `metrics` only name its places in messages.
///
/// SIGINT, SIGTERM or SIGHUP stop the run after the current step (or the epoch's test evaluation): a
/// checkpoint of the run so far is saved, mid-epoch if need be, and `train --resume` continues it
/// exactly; the process then exits with 128 + the signal. A second interrupt ends it at once, keeping
/// the checkpoint saved last (a save cut short leaves no temporary: `CCleanup`). A divergence stops the
/// run without saving (exit 1).
func runTraining(
    _ trainer: Trainer, checkpoint: String, metrics: String, extraMetadata: [String: String] = [:], resumable: Bool = true,
    runDirectory: RunDirectoryWriter? = nil
) throws {
    ccleanup_set_graceful(
        "\nconvscope: stopping after this step to save the run; press Ctrl-C again to quit at once, keeping the last checkpoint\n")
    defer { ccleanup_set_graceful(nil) }
    let dataset = trainer.dataset
    let firstStep = trainer.globalStep
    let bar = ProgressBar()
    let tag = dataset.isSynthetic ? "[SYNTHETIC] " : ""
    var lastDraw = -Double.infinity
    var savedEpoch: Int?
    while !trainer.isFinished {
        if ccleanup_interrupts_received() > 0 {
            bar.finish()
            try stopInterrupted(
                trainer, unsaved: trainer.globalStep > firstStep, checkpoint: checkpoint, extraMetadata: extraMetadata, resumable: resumable,
                runDirectory: runDirectory)
        }
        let outcome = trainer.step()
        for alarm in trainer.health.takeRaisedAlarms() {
            // The divergence below says the same, at more length.
            if case .diverged = outcome { continue }
            bar.line("\(tag)health alarm: " + HealthText.line(alarm))
        }
        switch outcome {
        case .diverged(let divergence):
            // Nothing is saved or logged after a divergence: the checkpoint keeps the last good epoch.
            bar.finish()
            let kept = savedEpoch.map { "\(checkpoint) keeps epoch \($0)" }
                ?? (FileManager.default.fileExists(atPath: checkpoint) ? "\(checkpoint) is left as it was" : "no checkpoint was written")
            throw RuntimeError(DivergenceText.commandLine(divergence, kept: kept))
        case .step(let step):
            try runDirectory?.recordStep(step, of: trainer)
            guard Stopwatch.now - lastDraw > 0.1 || !bar.isTerminal else { continue }
            lastDraw = Stopwatch.now
            let rate = Double(trainer.stepInEpoch * trainer.config.batchSize) / max(trainer.epochSeconds, 1e-9)
            let remaining = ETA.seconds(steps: trainer.totalSteps - trainer.globalStep, batchSize: trainer.config.batchSize, imagesPerSecond: rate)
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
                savedEpoch = trainer.completedEpochs
                continue
            }
            try RunCheckpoint.save(trainer, to: checkpoint, extraMetadata: extraMetadata)
            savedEpoch = trainer.completedEpochs
            var line = epoch.jsonObject
            line["model"] = trainer.network.spec.text
            line["dataset"] = dataset.displayName
            try appendJSONLine(line, to: metrics)
        }
    }
    bar.finish()
    let health = trainer.health.history
    if !health.isEmpty {
        printError(
            String(
                format: "health: %d records (every %d steps), %.1f%% of training time; %d alarms raised", health.records.count, health.every,
                health.overhead * 100, health.alarmsRaised))
    }
    let snapshots = trainer.weightHistory
    if !snapshots.isEmpty {
        // What the time scrubber costs: copying the weights, against the training time (the file is written with each save).
        let where_ = runDirectory == nil ? " beside the checkpoint" : " (not kept in a run directory)"
        printError(
            String(
                format: "snapshots: %d kept (%@ of %@)%@, copying %.3f s = %.3f%% of training time", snapshots.count,
                MemoryText.bytes(Double(snapshots.byteCount)), MemoryText.bytes(Double(snapshots.cadence.budgetBytes)), where_,
                trainer.snapshotSeconds, trainer.snapshotSeconds / max(trainer.trainingSeconds, 1e-9) * 100))
    }
    // A run that finished no epoch (none planned) has no final accuracy to report.
    guard let last = trainer.history.epochs.last else { return }
    writeOut(
        String(
            format: "%@final test accuracy %.2f%% after %d epochs, %@ of training; saved %@, metrics in %@\n",
            tag, last.testAccuracy * 100, last.epoch, durationText(last.elapsedSeconds), checkpoint, metrics))
}

/// Saves the run where an interrupt stopped it (mid-epoch when it is; at an epoch's end the epoch's own
/// save is the latest state), says so, and ends the command with 128 + the signal.
private func stopInterrupted(
    _ trainer: Trainer, unsaved: Bool, checkpoint: String, extraMetadata: [String: String], resumable: Bool,
    runDirectory: RunDirectoryWriter?
) throws -> Never {
    let signal = ccleanup_last_interrupt_signal()
    let place = "epoch \(trainer.completedEpochs + 1), step \(trainer.stepInEpoch) of \(trainer.stepsPerEpoch)"
    if !unsaved {
        printError("convscope: stopped by \(signalName(signal)) before the first step; nothing new to save")
    } else if trainer.stepInEpoch > 0 {
        let saved: String
        let hint: String
        if let runDirectory {
            saved = try runDirectory.saveCheckpoint(trainer, extraMetadata: extraMetadata)
            hint = resumable ? "; continue with: convscope train --resume --run-dir \(runDirectory.path)" : ""
        } else {
            try RunCheckpoint.save(trainer, to: checkpoint, extraMetadata: extraMetadata)
            saved = checkpoint
            hint = resumable ? "; continue with: convscope train --resume --checkpoint \(checkpoint)" : ""
        }
        printError("convscope: stopped by \(signalName(signal)) at \(place); saved \(saved)\(hint)")
    } else {
        printError("convscope: stopped by \(signalName(signal)) after epoch \(trainer.completedEpochs); \(checkpoint) holds it")
    }
    throw ExitCode(exitStatus(forSignal: signal))
}
