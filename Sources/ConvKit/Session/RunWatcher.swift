import Dispatch
import Foundation

/// Follows a run directory that another process writes (`convscope train --run-dir`, a PyTorch script
/// through `convscope_torch.RunWriter`, locally or over a shared filesystem) and publishes it as the
/// `TrainingSnapshot`s the app renders: the `WeightsSource` of `convscope watch`.
///
/// Every `pollInterval` seconds, on its own queue, it reads what changed (`RunDirectory.poll()`: new
/// metrics lines, new checkpoints by their headers) and loads the newest new checkpoint; the views then
/// work on that checkpoint's weights, and a copy of them is evaluated on the test set (on another
/// queue, given up when a newer checkpoint arrives) for the confusion matrix. A checkpoint is only
/// looked at once it is complete (writers rename finished files into place, and `RunCheckpointEntry`
/// refuses a file shorter than its header says); one that does not load, holds another model than the
/// one shown, or another number of classes is skipped, and the reason arrives as a `.skipped` event.
/// Nothing in the directory can make it fail: it reports and goes on.
///
/// Every checkpoint it shows becomes a time of the snapshot's `weightHistory` (`WatchedRunTimes`), so the app's
/// time scrubber steps back through the run's checkpoints as it does through a live run's snapshots; the first
/// one shown brings the history beside it, or the directory's earlier checkpoints.
///
/// The weights it shows change only when a whole checkpoint has loaded, and `copyNetwork` hands out
/// copies, so readers never see a half-replaced network. Call `stop()` before the process exits.
public final class RunWatcher: WeightsSource {
    public static let defaultPollInterval = 0.5

    public let path: String
    public let pollInterval: Double
    private let dataset: Dataset
    private let specText: String
    private let presetName: String?

    /// Polls and loads; `Core` is only touched on it.
    private let queue = DispatchQueue(label: "convscope.watch", qos: .utility)
    /// Guards the network shown; `Weights` is only touched on it.
    private let weightsQueue = DispatchQueue(label: "convscope.watch.weights", qos: .userInitiated)
    private let evaluationQueue = DispatchQueue(label: "convscope.watch.evaluation", qos: .utility)
    private let core: Confined<Core>
    private let weights: Confined<Weights>
    private let published: Locked<TrainingSnapshot>
    private let evaluated = Locked<(step: Int, evaluation: Evaluation)?>(nil)
    private let evaluationStop = Locked<StopSignal?>(nil)
    private let stopped = StopSignal()
    private let problems = Locked<[RunWatchProblem]>([])

    /// The directory reader and what has been shown, confined to `queue`.
    private final class Core {
        var directory: RunDirectory
        /// Checkpoints found before the watcher started, considered on the first poll.
        var pending: [RunCheckpointEntry]
        var pendingIssues: [RunDirectoryIssue]
        var shown: RunCheckpointEntry?
        /// The training config a ConvScope checkpoint records (PyTorch ones have none).
        var config: TrainingConfig?
        var event: SessionEvent?
        var eventSerial = 0
        /// The checkpoints shown so far (and the run's past), as the time scrubber's history.
        var times: WatchedRunTimes

        init(directory: RunDirectory, issues: [RunDirectoryIssue], snapshotBudget: Int) {
            self.directory = directory
            pending = directory.checkpoints
            pendingIssues = issues
            times = WatchedRunTimes(budgetBytes: snapshotBudget)
        }

        func announce(_ event: SessionEvent) {
            self.event = event
            eventSerial += 1
        }
    }

    /// The network shown, confined to `weightsQueue`.
    private final class Weights {
        var network: Network
        /// The step of the checkpoint it was loaded from; -1 before the first.
        var version = -1
        init(network: Network) { self.network = network }
    }

    /// A watcher of `directory` (already polled once by the caller, so that it could learn the model; its
    /// `issues` from that poll become its first `.skipped` event), showing images of `dataset`'s test set.
    /// The views show `network` (built from the run's spec; its weights are not shown until a checkpoint
    /// has loaded). The checkpoints it shows are kept as times within `snapshotBudget` bytes (0: none). With
    /// `startPolling` false, nothing happens until `pollNow()` (tests).
    public init(
        directory: RunDirectory, issues: [RunDirectoryIssue] = [], dataset: Dataset, network: Network,
        pollInterval: Double = RunWatcher.defaultPollInterval, snapshotBudget: Int = SnapshotCadence.defaultBudget,
        startPolling: Bool = true
    ) {
        path = directory.path
        self.pollInterval = pollInterval
        self.dataset = dataset
        specText = network.spec.text
        presetName = network.spec.presetName
        let core = Core(directory: directory, issues: issues, snapshotBudget: snapshotBudget)
        self.core = Confined(core)
        weights = Confined(Weights(network: network))
        published = Locked(
            RunWatcher.snapshot(
                of: core, shownVersion: -1, evaluated: nil, dataset: dataset, spec: specText, presetName: presetName, path: path))
        if startPolling {
            queue.async {
                self.pollOnce()
                self.scheduleNextPoll()
            }
        }
    }

    /// The model a run directory's views need before its first checkpoint loads: the newest readable
    /// checkpoint's spec, else the one `run.json` names; nil when neither is there yet.
    public static func spec(of directory: RunDirectory) -> String? {
        directory.latestCheckpoint?.spec ?? directory.manifest?.spec
    }

    // MARK: - WeightsSource

    public var snapshot: TrainingSnapshot { published.withLock { $0 } }

    /// Everything the latest poll skipped or set aside, and why (the `.skipped` event carries them too).
    public var latestProblems: [RunWatchProblem] { problems.withLock { $0 } }

    public var modelPlan: ModelPlan { weightsQueue.sync { weights.value.network.plan } }

    public func copyNetwork() -> (network: Network, version: Int) {
        weightsQueue.sync { (weights.value.network.copy(), weights.value.version) }
    }

    public func copyWeights(into network: Network) -> Int {
        weightsQueue.sync {
            network.copyState(from: weights.value.network)
            return weights.value.version
        }
    }

    // MARK: - Polling

    /// Polls once now, on the caller's thread's behalf (tests; the watcher polls by itself otherwise).
    public func pollNow() {
        queue.sync { pollOnce() }
    }

    /// Waits for the evaluation in progress, if any (tests).
    public func waitForEvaluation() {
        evaluationQueue.sync {}
        queue.sync { publish() }
    }

    /// Stops polling and evaluating; returns once neither is running (so no thread is left inside a BLAS
    /// call when the process exits).
    public func stop() {
        stopped.raise()
        evaluationStop.withLock { $0?.raise() }
        queue.sync {}
        evaluationQueue.sync {}
    }

    private func scheduleNextPoll() {
        queue.asyncAfter(deadline: .now() + pollInterval) {
            guard !self.stopped.isRaised else { return }
            self.pollOnce()
            self.scheduleNextPoll()
        }
    }

    private func pollOnce() {
        guard !stopped.isRaised else { return }
        let core = self.core.value
        let update = core.directory.poll()
        var problems = (core.pendingIssues + update.issues).map(RunWatchProblem.skipped)
        core.pendingIssues = []
        var candidates = core.pending + update.newCheckpoints
        core.pending = []
        if let shown = core.shown {
            candidates.removeAll { $0.step < shown.step }
            if update.removedCheckpoints.contains(shown.name), !candidates.contains(where: { $0.name == shown.name }) {
                problems.append(.shownCheckpointRemoved(file: RunLayout.checkpointsFolder + "/" + shown.name))
            }
        }
        // The newest first; an older one only when every newer one fails to load.
        candidates.sort { ($0.step, $0.name) > ($1.step, $1.name) }
        for entry in candidates {
            guard !stopped.isRaised else { return }
            switch read(entry) {
            case .success(let loaded):
                let first = core.shown == nil
                show(loaded, of: entry)
                core.shown = entry
                core.announce(.checkpointLoaded(file: RunLayout.checkpointsFolder + "/" + entry.name, step: entry.step))
                core.times.add(loaded.network, of: entry)
                guard first else { break }
                // The views show the checkpoint at once; its past is read after (a file per earlier time).
                publish()
                problems += core.times.open(
                    from: entry, network: loaded.network, earlier: core.directory.checkpoints, stop: stopped,
                    read: { self.read($0).map(\.network) })
            case .failure(let issue):
                problems.append(.skipped(issue))
                continue
            }
            break
        }
        self.problems.withLock { $0 = problems }
        if !problems.isEmpty { core.announce(.skipped(problems: problems)) }
        publish()
    }

    /// Loads `entry`, when it fits what is shown (the model and the number of classes).
    private func read(_ entry: RunCheckpointEntry) -> Result<RunCheckpoint.Loaded, RunDirectoryIssue> {
        let file = RunLayout.checkpointsFolder + "/" + entry.name
        let loaded: RunCheckpoint.Loaded
        do {
            loaded = try entry.load()
        } catch {
            return .failure(RunDirectoryIssue(file: file, problem: .unloadable("\(error)")))
        }
        guard loaded.network.spec.text == specText else {
            return .failure(
                RunDirectoryIssue(
                    file: file, problem: .otherModel(found: loaded.network.spec.text, shown: specText)))
        }
        guard loaded.network.classCount == dataset.classCount else {
            return .failure(
                RunDirectoryIssue(
                    file: file,
                    problem: .otherClassCount(found: loaded.network.classCount, shown: dataset.classCount, dataset: dataset.displayName)))
        }
        return .success(loaded)
    }

    /// Makes the weights of `loaded` (read from `entry`) the ones shown and starts their evaluation.
    private func show(_ loaded: RunCheckpoint.Loaded, of entry: RunCheckpointEntry) {
        core.value.config = RunCheckpoint.config(in: loaded.metadata, model: specText) ?? core.value.config
        weightsQueue.sync {
            weights.value.network = loaded.network
            weights.value.version = entry.step
        }
        evaluate(step: entry.step)
    }

    /// Evaluates a copy of the weights of `step` on the test set, on the evaluation queue; a newer
    /// checkpoint (or `stop()`) stops it after its current batch.
    private func evaluate(step: Int) {
        let stop = StopSignal()
        evaluationStop.withLock { previous in
            previous?.raise()
            previous = stop
        }
        evaluationQueue.async {
            guard !stop.isRaised, !self.stopped.isRaised else { return }
            let (network, version) = self.copyNetwork()
            guard version == step else { return }
            guard
                let evaluation = Evaluator(classes: network.classCount).evaluate(self.dataset.test, stoppingWhen: stop, { network.infer($0) })
            else { return }
            self.evaluated.withLock { $0 = (step, evaluation) }
            self.queue.async {
                guard !self.stopped.isRaised else { return }
                self.core.value.times.keep(evaluation, step: step)
                self.publish()
            }
        }
    }

    private func publish() {
        let version = weightsQueue.sync { weights.value.version }
        let snapshot = RunWatcher.snapshot(
            of: core.value, shownVersion: version, evaluated: evaluated.withLock { $0 }, dataset: dataset, spec: specText,
            presetName: presetName, path: path)
        published.withLock { $0 = snapshot }
    }

    /// The snapshot of what has been read: the metrics' progress and curves, the checkpoint shown and its
    /// evaluation (only while it is the one shown).
    private static func snapshot(
        of core: Core, shownVersion: Int, evaluated: (step: Int, evaluation: Evaluation)?, dataset: Dataset, spec: String,
        presetName: String?, path: String
    ) -> TrainingSnapshot {
        let directory = core.directory
        let manifest = directory.manifest
        let history = directory.history
        let latest = [history.latestTrain, history.latestEval].compactMap { $0 }.max { $0.step < $1.step }
        let globalStep = max(latest?.step ?? 0, core.shown?.step ?? 0)
        let completedEpochs = max(history.latestEval?.epoch ?? 0, core.shown?.epoch ?? 0)
        var config = core.config ?? TrainingConfig(model: spec)
        if let epochs = manifest?.epochs { config.epochs = epochs }
        if let batch = manifest?.batch { config.batchSize = batch }
        config.epochs = max(config.epochs, completedEpochs, 1)
        let stepsPerEpoch = manifest?.stepsPerEpoch ?? 0
        let totalSteps = stepsPerEpoch * config.epochs
        let stepInEpoch = stepsPerEpoch > 0 ? min(max(globalStep - completedEpochs * stepsPerEpoch, 0), stepsPerEpoch) : 0
        let rate = history.latestTrain?.imagesPerSecond ?? history.latestEval?.imagesPerSecond ?? 0
        let imagesPerSecond = rate.isFinite && rate > 0 ? rate : 0
        let learningRate = Float(history.latestTrain?.learningRate ?? history.latestEval?.learningRate ?? .nan)
        let evaluation = evaluated.flatMap { $0.step == shownVersion ? $0 : nil }
        return TrainingSnapshot(
            datasetName: dataset.displayName, isSynthetic: dataset.isSynthetic, classNames: dataset.classNames, modelSpec: spec,
            presetName: presetName, config: config, state: .watching, completedEpochs: completedEpochs, stepInEpoch: stepInEpoch,
            stepsPerEpoch: stepsPerEpoch, globalStep: globalStep, totalSteps: totalSteps, learningRate: learningRate,
            learningRateScale: 1, imagesPerSecond: imagesPerSecond, history: history.history,
            lastEvaluation: evaluation?.evaluation, weightsVersion: shownVersion, unsavedSteps: 0, event: core.event,
            eventSerial: core.eventSerial, divergence: nil, weightHistory: core.times.history,
            watch: WatchStatus(
                directory: path, writer: manifest?.writer, checkpointName: core.shown?.name, checkpointStep: core.shown?.step,
                checkpointEpoch: core.shown?.epoch, checkpointCount: directory.checkpoints.count, evaluatedStep: evaluation?.step))
    }
}
