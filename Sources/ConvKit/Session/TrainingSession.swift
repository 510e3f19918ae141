import Dispatch
import Foundation

/// Runs a `Trainer` on a background Dispatch queue and lets a UI steer and watch it.
///
/// The trainer lives on one serial queue. Each step is its own work item, so commands (pause,
/// resume, single step, learning rate, save) and weight copies for interpretation are queued behind
/// the current step and run between steps: nobody ever sees weights mid-update. The UI reads
/// `snapshot` (an immutable value) and never touches the trainer.
public final class TrainingSession: Sendable {
    /// Minimum time between snapshots published after ordinary steps.
    public static let publishInterval: Double = 0.1

    private let queue = DispatchQueue(label: "convscope.training", qos: .userInitiated)
    /// Only read or written on `queue`.
    private let core: Confined<Core>
    private let published: Locked<TrainingSnapshot>
    /// The trainer's interruption signal, raised by `stop()` from the caller's thread.
    private let interruption: StopSignal

    /// The trainer and the loop's bookkeeping, confined to the training queue.
    private final class Core {
        let trainer: Trainer
        var state: TrainingSnapshot.State
        var stepsRequested = 0
        var checkpointPath: String
        var savedStep: Int
        private(set) var event: SessionEvent?
        private(set) var eventSerial = 0
        private(set) var divergence: Divergence?
        var lastPublish = -Double.infinity
        var recentRate = 0.0
        var stopped = false

        /// Publishes `event` as the newest; each call is a new event, equal or not to the last.
        func announce(_ event: SessionEvent) {
            self.event = event
            eventSerial += 1
        }

        /// Records a divergence as the newest event and pauses.
        func report(_ divergence: Divergence) {
            self.divergence = divergence
            announce(.diverged(divergence))
            state = .diverged
            stepsRequested = 0
            // A checkpoint saved after a step the run has just gone back from differs from the weights now.
            if savedStep > trainer.globalStep { savedStep = trainer.globalStep - 1 }
        }

        /// A step got through: the divergence is over.
        func clearDivergence() { divergence = nil }

        init(trainer: Trainer, paused: Bool, checkpointPath: String) {
            self.trainer = trainer
            state = trainer.isFinished ? .finished : (paused ? .paused : .running)
            self.checkpointPath = checkpointPath
            savedStep = trainer.globalStep
            if let problem = trainer.weightHistoryProblem { announce(.weightHistorySetAside(problem: problem)) }
        }
    }

    /// A session over `trainer`, running at once unless `paused`. Saves go to `checkpointPath`.
    public init(trainer: Trainer, paused: Bool = false, checkpointPath: String) {
        modelPlan = trainer.network.plan
        let core = Core(trainer: trainer, paused: paused, checkpointPath: checkpointPath)
        published = Locked(TrainingSession.snapshot(of: core))
        interruption = trainer.interruption
        self.core = Confined(core)
        queue.async { self.scheduleStep() }
    }

    /// The latest published snapshot.
    public var snapshot: TrainingSnapshot { published.withLock { $0 } }

    /// Pauses after the current step.
    public func pause() { command { core in if core.state == .running { core.state = .paused } } }

    /// Resumes continuous training (after a divergence too, from the last good state the trainer went back to).
    public func resume() {
        command { core in if core.state != .finished { core.state = .running } }
    }

    /// Toggles between running and paused (diverged counts as paused).
    public func togglePause() {
        command { core in
            switch core.state {
            case .running, .stepping: core.state = .paused
            case .paused, .diverged: core.state = .running
            case .finished, .watching: break
            }
        }
    }

    /// Takes `count` steps, then pauses (the UI's single-step key while paused).
    public func step(_ count: Int = 1) {
        command { core in
            guard core.state != .finished && core.state != .running else { return }
            core.state = .stepping
            core.stepsRequested += count
        }
    }

    /// Multiplies the learning rate on top of the schedule (the UI's `+` and `-`).
    public func scaleLearningRate(by factor: Float) {
        command { core in
            core.trainer.learningRateScale = max(1e-4, min(core.trainer.learningRateScale * factor, 1e4))
            core.announce(.learningRateScaled(scale: core.trainer.learningRateScale))
        }
    }

    /// Saves a checkpoint (to `path`, or the session's checkpoint path) between steps.
    public func save(to path: String? = nil) {
        command { core in
            let target = path ?? core.checkpointPath
            do {
                try RunCheckpoint.save(core.trainer, to: target)
                core.savedStep = core.trainer.globalStep
                core.announce(.saved(path: target))
            } catch {
                core.announce(.saveFailed(path: target, reason: "\(error)"))
            }
        }
    }

    /// Stops the loop for good (the app is quitting); returns once the current step is done, which
    /// at the end of an epoch means once its test evaluation has stopped after the current batch
    /// (the epoch is then left unrecorded; nothing is saved after a stop).
    public func stop() {
        interruption.raise()
        queue.sync { core.value.stopped = true }
    }

    /// The trainer's network's plan (the trainer keeps one network for its whole life).
    public let modelPlan: ModelPlan

    /// A copy of the network taken between steps, for interpretation off the training queue.
    public func copyNetwork() -> (network: Network, version: Int) {
        queue.sync { (core.value.trainer.network.copy(), core.value.trainer.globalStep) }
    }

    /// Copies the current weights into `network` (same spec) between steps; returns the version.
    public func copyWeights(into network: Network) -> Int {
        queue.sync {
            network.copyState(from: core.value.trainer.network)
            return core.value.trainer.globalStep
        }
    }

    /// Runs `change` on the training queue, then publishes a snapshot and keeps the loop going.
    private func command(_ change: @escaping @Sendable (Core) -> Void) {
        queue.async {
            let core = self.core.value
            guard !core.stopped else { return }
            let wasIdle = core.state == .paused || core.state == .finished || core.state == .diverged
            change(core)
            self.publish(force: true)
            if wasIdle { self.scheduleStep() }
        }
    }

    /// Queues the next step if the loop should take one.
    private func scheduleStep() {
        let core = self.core.value
        guard !core.stopped, core.state == .running || core.state == .stepping else { return }
        queue.async { self.runStep() }
    }

    private func runStep() {
        let core = self.core.value
        guard !core.stopped, core.state == .running || core.state == .stepping else { return }
        let trainer = core.trainer
        let stopwatch = Stopwatch()
        let outcome = trainer.step()
        if case .diverged(let divergence) = outcome {
            core.report(divergence)
            publish(force: true)
            return
        }
        core.clearDivergence()
        let seconds = stopwatch.seconds
        let rate = Double(trainer.config.batchSize) / max(seconds, 1e-9)
        core.recentRate = core.recentRate == 0 ? rate : 0.9 * core.recentRate + 0.1 * rate
        if core.state == .stepping {
            core.stepsRequested -= 1
            if core.stepsRequested <= 0 { core.state = .paused }
        }
        var force = core.state == .paused
        if case .epochFinished = outcome { force = true }
        if trainer.isFinished {
            core.state = .finished
            core.announce(.finished(epochs: trainer.config.epochs))
            force = true
        }
        publish(force: force)
        scheduleStep()
    }

    private func publish(force: Bool) {
        let core = self.core.value
        let now = Stopwatch.now
        guard force || now - core.lastPublish >= TrainingSession.publishInterval else { return }
        core.lastPublish = now
        let snapshot = TrainingSession.snapshot(of: core)
        published.withLock { $0 = snapshot }
    }

    private static func snapshot(of core: Core) -> TrainingSnapshot {
        let t = core.trainer
        return TrainingSnapshot(
            datasetName: t.dataset.displayName, isSynthetic: t.dataset.isSynthetic, classNames: t.dataset.classNames,
            modelSpec: t.network.spec.text, presetName: t.network.spec.presetName, config: t.config, state: core.state,
            completedEpochs: t.completedEpochs, stepInEpoch: t.stepInEpoch, stepsPerEpoch: t.stepsPerEpoch,
            globalStep: t.globalStep, totalSteps: t.totalSteps, learningRate: t.learningRate,
            learningRateScale: t.learningRateScale, imagesPerSecond: core.recentRate, history: t.history,
            lastEvaluation: t.lastEvaluation, weightsVersion: t.globalStep, unsavedSteps: t.globalStep - core.savedStep,
            event: core.event, eventSerial: core.eventSerial, divergence: core.divergence, health: t.health.history,
            healthRecordingOff: !t.health.isEnabled, weightHistory: t.weightHistory)
    }
}
