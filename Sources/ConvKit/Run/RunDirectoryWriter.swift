#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Writes a run directory (`RunLayout`) for ConvScope's own trainer: `run.json` when the run starts,
/// a metrics line per step and per epoch, a checkpoint per epoch (or whenever asked).
///
/// A directory that already holds a run is refused unless the run is being resumed, so two runs never
/// mix their metrics. The metrics file is opened once for appending; each record goes out in one
/// `write`. Checkpoints and the manifest are written atomically (`AtomicFile`). Errors name the file.
public final class RunDirectoryWriter {
    public let path: String
    private var metricsDescriptor: Int32 = -1

    /// Opens (and creates, with its `checkpoints` folder) the run directory at `path`.
    ///
    /// A new run writes `manifest`; `resume` keeps the manifest already there and appends to its metrics.
    /// Throws `FileError` when the directory cannot be made, already holds a run and `resume` is false, or
    /// holds none and `resume` is true.
    public init(path: String, manifest: RunManifest, resume: Bool) throws {
        self.path = path
        let manifestPath = RunLayout.join(path, RunLayout.manifestFile)
        let exists = FileManager.default.fileExists(atPath: manifestPath)
        if exists && !resume {
            throw FileError(
                path: path, action: "write",
                reason: "it already holds a run (\(RunLayout.manifestFile)); choose a new directory, or add --resume to continue it")
        }
        if !exists && resume {
            throw FileError(path: path, action: "resume", reason: "it holds no run (no \(RunLayout.manifestFile))")
        }
        let checkpoints = RunLayout.join(path, RunLayout.checkpointsFolder)
        do {
            try FileManager.default.createDirectory(atPath: checkpoints, withIntermediateDirectories: true)
        } catch {
            throw FileError(path: path, action: "create", reason: "the run directory cannot be made: \((error as NSError).localizedDescription)")
        }
        if !exists { try AtomicFile.write(manifest.data(), to: manifestPath) }
        let metrics = RunLayout.join(path, RunLayout.metricsFile)
        metricsDescriptor = open(metrics, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o666)
        guard metricsDescriptor >= 0 else { throw FileError(path: metrics, action: "open", reason: FileError.errnoText()) }
    }

    deinit {
        if metricsDescriptor >= 0 { close(metricsDescriptor) }
    }

    /// Appends `record` as one line.
    public func append(_ record: MetricsRecord) throws {
        let line = Array((record.jsonLine + "\n").utf8)
        var written = 0
        while written < line.count {
            let count = line.withUnsafeBytes { write(metricsDescriptor, $0.baseAddress! + written, line.count - written) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                throw FileError(path: metricsPath, action: "append to", reason: FileError.errnoText())
            }
            written += count
        }
    }

    /// The metrics file and the checkpoints folder.
    public var metricsPath: String { RunLayout.join(path, RunLayout.metricsFile) }
    public var checkpointsPath: String { RunLayout.join(path, RunLayout.checkpointsFolder) }

    /// Where the checkpoint of `step` goes.
    public func checkpointPath(step: Int) -> String {
        RunLayout.join(checkpointsPath, RunLayout.checkpointName(step: step))
    }

    /// Saves the trainer's run (network, optimiser state, config, history: `RunCheckpoint.save`) as the
    /// checkpoint of its current step; returns the file's path.
    @discardableResult
    public func saveCheckpoint(_ trainer: Trainer, extraMetadata: [String: String] = [:]) throws -> String {
        let file = checkpointPath(step: trainer.globalStep)
        // A checkpoint per epoch: the weight history beside each would grow the directory quadratically.
        try RunCheckpoint.save(trainer, to: file, extraMetadata: extraMetadata, keepingWeightHistory: false)
        return file
    }

    /// Records a training step of `trainer` (just taken): its train line.
    public func recordStep(_ step: TrainingHistory.Step, of trainer: Trainer) throws {
        let rate = Double(trainer.stepInEpoch * trainer.config.batchSize) / max(trainer.epochSeconds, 1e-9)
        try append(MetricsRecord(step: step, epoch: trainer.completedEpochs + 1, imagesPerSecond: rate, time: trainer.trainingSeconds))
    }

    /// Records the end of an epoch: the last step's train line, the checkpoint, then the eval line, so
    /// that a reader who sees an eval line finds its checkpoint.
    public func recordEpoch(
        _ step: TrainingHistory.Step, _ epoch: TrainingHistory.Epoch, of trainer: Trainer, extraMetadata: [String: String] = [:]
    ) throws {
        try append(MetricsRecord(step: step, epoch: epoch.epoch, imagesPerSecond: epoch.imagesPerSecond, time: epoch.elapsedSeconds))
        try saveCheckpoint(trainer, extraMetadata: extraMetadata)
        try append(MetricsRecord(epoch: epoch, step: trainer.globalStep))
    }

    /// The newest checkpoint that reads, to resume from; throws when there is none.
    public static func latestCheckpoint(in path: String) throws -> RunCheckpointEntry {
        var directory = try RunDirectory(path: path)
        _ = directory.poll()
        guard let latest = directory.latestCheckpoint else {
            throw FileError(path: path, action: "resume", reason: "it holds no readable checkpoint in \(RunLayout.checkpointsFolder)/")
        }
        return latest
    }
}

extension MetricsRecord {
    /// The train line of a step.
    public init(step: TrainingHistory.Step, epoch: Int, imagesPerSecond: Double?, time: Double) {
        self.init(
            kind: .train, step: step.step, epoch: epoch, loss: MetricsRecord.value(step.loss),
            accuracy: MetricsRecord.value(step.accuracy), learningRate: MetricsRecord.value(step.learningRate),
            imagesPerSecond: imagesPerSecond, time: time)
    }

    /// The eval line after an epoch, at optimiser step `step`.
    public init(epoch: TrainingHistory.Epoch, step: Int) {
        self.init(
            kind: .eval, step: step, epoch: epoch.epoch, loss: MetricsRecord.value(epoch.trainLoss),
            accuracy: MetricsRecord.value(epoch.trainAccuracy), learningRate: MetricsRecord.value(epoch.learningRate),
            imagesPerSecond: epoch.imagesPerSecond, testLoss: MetricsRecord.value(epoch.testLoss),
            testAccuracy: MetricsRecord.value(epoch.testAccuracy), time: epoch.elapsedSeconds, epochSeconds: epoch.seconds)
    }
}
