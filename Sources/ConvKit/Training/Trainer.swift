import Foundation

/// Runs training: the loop of steps and epochs, and the only writer of the weights. The CLI drives it in a
/// loop; the TUI drives it from a background queue between commands. Its parts each have one job: the
/// batches come from a `BatchSampler`, the parameter groups are set once from the config
/// (`TrainingConfig.configureParameters`, which also gives the per-parameter `ParameterSchedule`s), the
/// optimiser steps the weights (wrapped in a `LookaheadOptimizer` when the config asks), and an `Evaluator`
/// scores each finished epoch.
///
/// A run is reproducible from its seed: the epoch's shuffle, each step's augmentation and dropout
/// masks come from streams derived from (seed, epoch) and (seed, step), so resuming from a checkpoint
/// saved at an epoch boundary continues exactly as the uninterrupted run would.
///
/// A step never leaves non-finite weights behind: when its loss or gradient norm is not finite (or, at
/// the end of an epoch, the weights or the test loss), `step()` reports a `Divergence` and puts the run
/// back to its last good state: the end of the latest recorded epoch (or where this trainer started),
/// whose weights, statistics and optimiser state passed an epoch's checks, with the step count, tallies
/// and history of that moment. The steps just before a non-finite loss are usually no better: a loss
/// blows up over several steps, and momentum carries the huge gradients into any retry (going back one
/// step did not help, `docs/reliability.md`). Lowering the rate and stepping again retrains the epoch
/// from there, as the checkpoint saved after that epoch would.
public final class Trainer {
    public let config: TrainingConfig
    public let dataset: Dataset
    public let network: Network
    public let optimizer: Optimizer
    public private(set) var history: TrainingHistory
    /// Epochs finished (and evaluated) so far.
    public private(set) var completedEpochs: Int
    /// Steps taken in the current epoch.
    public private(set) var stepInEpoch = 0
    public let stepsPerEpoch: Int
    /// A factor on the scheduled learning rate (the TUI's `+`/`-` keys change it).
    public var learningRateScale: Float = 1
    /// When set, the network learns from this teacher's soft targets too (knowledge distillation).
    public var teacher: (network: Network, loss: DistillationLoss)?
    /// Raised from any thread when the run is being abandoned (the app quitting): the test-set
    /// evaluation at the end of an epoch then stops after its current batch, and the epoch is left
    /// unrecorded. A trainer whose epoch evaluation was cut short takes no more steps.
    public let interruption = StopSignal()
    /// The health timeline (per-layer histograms, norms, update ratios, dead units, alarms), recorded
    /// around the updates at its own cadence (`HealthRecorder`; `health.settings.every = 0` turns it off).
    public lazy var health = HealthRecorder(
        network: network, probe: dataset.test, stepsPerEpoch: stepsPerEpoch, peakRate: config.learningRate)

    /// Copies of the weights at `weightHistory.cadence` (by default each epoch's end, with its evaluation, and
    /// steps 0, 10 and 100), for the app's time scrubber; `RunCheckpoint.save` keeps them beside the checkpoint.
    public var weightHistory = WeightHistory()
    /// Why the weight history beside the checkpoint this run resumed from did not load (one line), if it did not.
    public var weightHistoryProblem: String?
    /// Seconds spent copying weights into `weightHistory` since this trainer was made.
    public private(set) var snapshotSeconds = 0.0

    /// The epoch's order, each image's augmentation and the assembled batches.
    private let sampler: BatchSampler
    /// Whether a step starts assembling the next batch on a second queue while it computes. On by default;
    /// off gives exactly the same run, assembling each batch when its step begins.
    public var prefetchesBatches = true
    /// The optimiser wrapped in look-ahead, when the config asks for it.
    private let lookahead: LookaheadOptimizer?
    /// Rates some parameters follow on top of the run's schedule (`TrainingConfig.configureParameters`).
    private let parameterSchedules: [any ParameterSchedule]
    private let loss: CrossEntropyLoss
    private let logitGradient = FloatBuffer()
    private var labels: [Int] = []
    /// Tallies of the current epoch.
    private var epochTally = (loss: 0.0, correct: 0, seen: 0, seconds: 0.0)
    /// Training seconds of this session before the current epoch, and of earlier sessions (resume).
    private var sessionSeconds = 0.0
    private var elapsedBefore: Double

    /// Where the run stands, apart from its tensors: what a divergence puts back.
    private struct Position {
        var completedEpochs: Int
        var stepInEpoch: Int
        var epochTally: (loss: Double, correct: Int, seen: Int, seconds: Double)
        var sessionSeconds: Double
        var stepRecords: Int
        var epochRecords: Int
        var lastEvaluation: Evaluation?
    }

    private var position: Position {
        get {
            Position(
                completedEpochs: completedEpochs, stepInEpoch: stepInEpoch, epochTally: epochTally, sessionSeconds: sessionSeconds,
                stepRecords: history.steps.count, epochRecords: history.epochs.count, lastEvaluation: lastEvaluation)
        }
        set {
            (completedEpochs, stepInEpoch, epochTally, sessionSeconds) =
                (newValue.completedEpochs, newValue.stepInEpoch, newValue.epochTally, newValue.sessionSeconds)
            history.steps.removeLast(max(0, history.steps.count - newValue.stepRecords))
            history.epochs.removeLast(max(0, history.epochs.count - newValue.epochRecords))
            lastEvaluation = newValue.lastEvaluation
        }
    }

    /// The run's last good state: weights, statistics, optimiser and look-ahead state, copied where this
    /// trainer took its first step and after each recorded epoch; and the position that goes with it.
    private let lastGood: StateCopy
    private var lastGoodPosition: Position?

    /// A fresh run: builds and initialises the network from the config, after `config.validate()`.
    public convenience init(config: TrainingConfig, dataset: Dataset) throws(TrainingConfigError) {
        try config.validate()
        let network: Network
        do {
            network = try Network(spec: try ModelSpec(config.model), seed: config.seed)
        } catch {
            throw TrainingConfigError(setting: .model, problem: "does not build: \(error)")
        }
        var random = RandomSource(seed: config.seed, stream: 0xC0FF_EE)
        (config.initialization.initializer ?? Initializer.automatic(for: network.spec)).initialize(network, random: &random)
        if config.initialization.identity { Initializer.setIdentity(network) }
        if let std = config.initialization.classifierStd, let classifier = network.classifier {
            Initializer.rescale(classifier.weight, toStandardDeviation: std)
            classifier.bias.values.update(repeating: 0)
        }
        if config.speedRun.whitening, let first = network.layers.first as? Conv2d {
            let images = config.trainLimit.map { dataset.train.subset(first: $0) } ?? dataset.train
            PatchWhitening.initialize(first, from: images)
        }
        self.init(config: config, dataset: dataset, network: network)
    }

    /// A run over an existing network: fresh, or resumed with the history a checkpoint kept (its
    /// optimiser and look-ahead state then go into `resumableState`; see `RunCheckpoint.resume`).
    public init(config: TrainingConfig, dataset: Dataset, network: Network, history: TrainingHistory = TrainingHistory()) {
        self.config = config
        self.dataset = dataset
        self.network = network
        // Fresh and resumed runs validate their config first, refusing a precision the machine cannot run.
        switch config.precision.arithmetic {
        case .success(let arithmetic): network.arithmetic = arithmetic
        case .failure(let problem): preconditionFailure("precision \(config.precision) \(problem), and validate() let it pass")
        }
        optimizer = Optimizer(config.optimizer.update, parameters: network.parameters)
        sampler = BatchSampler(
            images: config.trainLimit.map { dataset.train.subset(first: $0) } ?? dataset.train, batchSize: config.batchSize,
            augmentation: config.augmentation, seed: config.seed)
        stepsPerEpoch = sampler.stepsPerEpoch
        loss = CrossEntropyLoss(labelSmoothing: config.loss.labelSmoothing)
        self.history = history
        completedEpochs = history.epochs.count
        elapsedBefore = history.epochs.last?.elapsedSeconds ?? 0
        parameterSchedules = config.configureParameters(of: network, stepsPerEpoch: stepsPerEpoch)
        lookahead = config.optimizer.lookahead ? LookaheadOptimizer(wrapping: optimizer, state: network.stateTensors) : nil
        lastGood = StateCopy(of: network.stateTensors + optimizer.stateTensors + (lookahead?.stateTensors ?? []))
    }

    /// The optimiser's state and the look-ahead's slow weights: what a checkpoint keeps to resume exactly.
    public var resumableState: [StateTensor] {
        optimizer.stateTensors + (lookahead?.stateTensors ?? [])
    }

    public var totalSteps: Int { stepsPerEpoch * config.epochs }
    /// Optimiser steps taken since the run began.
    public var globalStep: Int { Int(optimizer.steps.value) }
    public var isFinished: Bool { completedEpochs >= config.epochs }
    /// How far into the current epoch the run is, with the epoch's running totals: what a checkpoint
    /// saved mid-epoch needs to continue exactly.
    public struct EpochProgress: Sendable, Equatable {
        public var step: Int
        public var lossSum: Double
        public var correct: Int
        public var seen: Int
        public var seconds: Double
    }

    public var epochProgress: EpochProgress {
        get { EpochProgress(step: stepInEpoch, lossSum: epochTally.loss, correct: epochTally.correct, seen: epochTally.seen, seconds: epochTally.seconds) }
        set {
            precondition(newValue.step >= 0 && newValue.step < stepsPerEpoch, "a position inside an epoch")
            stepInEpoch = newValue.step
            epochTally = (newValue.lossSum, newValue.correct, newValue.seen, newValue.seconds)
        }
    }

    /// Seconds spent on steps of the current epoch.
    public var epochSeconds: Double { epochTally.seconds }
    /// Seconds spent training (not evaluating) since the run began, across resumes.
    public var trainingSeconds: Double { elapsedBefore + sessionSeconds + epochTally.seconds }

    /// The learning rate the next step will use.
    public var learningRate: Float {
        learningRateScale * config.schedule.learningRate.rate(
            peak: config.learningRate, step: min(globalStep, totalSteps - 1), totalSteps: totalSteps,
            stepsPerEpoch: stepsPerEpoch)
    }

    /// What one call of `step()` did.
    public enum Outcome: Sendable {
        case step(TrainingHistory.Step)
        /// The step finished an epoch, which was then evaluated on the test set.
        case epochFinished(TrainingHistory.Step, TrainingHistory.Epoch, Evaluation)
        /// A non-finite number turned up; the run went back to where it stood before (see `Divergence`).
        case diverged(Divergence)
    }

    /// One optimiser step on the next batch; after the last batch of an epoch, also evaluates on
    /// the test set and records the epoch.
    @discardableResult
    public func step() -> Outcome {
        precondition(!isFinished, "the run has finished its \(config.epochs) epochs")
        precondition(stepInEpoch < stepsPerEpoch, "the epoch's evaluation was interrupted; the run was abandoned")
        let stopwatch = Stopwatch()
        let step = globalStep
        let x = sampler.batch(epoch: completedEpochs, stepInEpoch: stepInEpoch, globalStep: step, labels: &labels)
        if prefetchesBatches && stepInEpoch + 1 < stepsPerEpoch {
            sampler.prefetch(epoch: completedEpochs, stepInEpoch: stepInEpoch + 1, globalStep: step + 1)
        }
        for (index, layer) in network.allLayers.enumerated() {
            guard let dropout = layer as? Dropout else { continue }
            dropout.random = RandomSource(seed: config.seed &+ UInt64(index) &* 0x9E37_79B9, stream: UInt64(step))
        }
        if step == 0 && weightHistory.snapshot(atStep: 0) == nil && weightHistory.cadence.records(completedSteps: 0, epochEnded: false) {
            keepSnapshot(evaluation: nil)
        }
        let rate = learningRate
        let start = position
        if lastGoodPosition == nil { keepAsLastGood() }
        let teacherLogits = teacher.map { $0.network.infer(x) }
        let logits = network.forward(x, mode: .training)
        let gradient = logitGradient.tensor(batch: x.batch, shape: logits.shape)
        let result: CrossEntropyLoss.Result
        if let teacher, let teacherLogits {
            result = teacher.loss.evaluate(logits: logits, teacher: teacherLogits, labels: labels, gradient: gradient)
        } else {
            result = loss.evaluate(logits: logits, labels: labels, gradient: gradient)
        }
        network.backward(gradient)
        // Checked before the update, so a bad batch never reaches the weights.
        let squaredNorm = result.loss.isFinite ? FiniteCheck.squaredGradientNorm(network.parameters) : 0
        if !result.loss.isFinite || !squaredNorm.isFinite {
            let quantity: Divergence.Quantity = result.loss.isFinite ? .gradientNorm : .loss
            return diverge(quantity, value: result.loss.isFinite ? Float(squaredNorm.squareRoot()) : result.loss, rate: rate, at: start)
        }
        if !parameterSchedules.isEmpty {
            let scheduleFactor = rate / (learningRateScale * config.learningRate)
            for schedule in parameterSchedules { schedule.apply(step: step, scheduleFactor: scheduleFactor) }
        }
        health.willUpdate(step: step, stepInEpoch: stepInEpoch, loss: result.loss, rate: rate)
        let momentum = config.schedule.learningRate.momentum(step: step, totalSteps: totalSteps)
        if let lookahead {
            lookahead.step(rate: rate, momentum: momentum, step: step, totalSteps: totalSteps)
        } else {
            optimizer.step(rate: rate, momentum: momentum)
        }
        health.didUpdate()
        stepInEpoch += 1
        epochTally.loss += Double(result.loss) * Double(x.batch)
        epochTally.correct += result.correct
        epochTally.seen += x.batch
        epochTally.seconds += stopwatch.seconds
        let record = TrainingHistory.Step(
            step: step + 1, loss: result.loss, accuracy: Float(result.correct) / Float(x.batch), learningRate: rate)
        history.steps.append(record)
        guard stepInEpoch == stepsPerEpoch else {
            if weightHistory.cadence.records(completedSteps: step + 1, epochEnded: false) { keepSnapshot(evaluation: nil) }
            return .step(record)
        }
        // A finite gradient times a large rate can still overflow a weight: check them before the epoch is
        // evaluated and recorded (once per epoch: a pass over the weights).
        if let bad = FiniteCheck.firstNonFinite(in: network.stateTensors) {
            return diverge(.weights, value: bad.value, tensor: bad.tensor, rate: rate, at: start)
        }
        switch finishEpoch(learningRate: rate) {
        case .none: return .step(record)
        case .some(.failure(let failure)): return diverge(.testLoss, value: failure.value, rate: rate, at: start)
        case .some(.success(let epoch)):
            keepAsLastGood()
            if weightHistory.cadence.records(completedSteps: globalStep, epochEnded: true) { keepSnapshot(evaluation: lastEvaluation) }
            return .epochFinished(record, epoch, lastEvaluation!)
        }
    }

    /// Copies the weights as they stand into `weightHistory` (a pass over the weights: about a millisecond for
    /// 1M parameters, docs/timeline.md).
    private func keepSnapshot(evaluation: Evaluation?) {
        let stopwatch = Stopwatch()
        weightHistory.add(WeightSnapshot(capturing: network, step: globalStep, epoch: completedEpochs, evaluation: evaluation))
        snapshotSeconds += stopwatch.seconds
    }

    /// Copies the run as it stands as the state a divergence goes back to (once per epoch: a copy of the
    /// weights and the optimiser's state).
    private func keepAsLastGood() {
        lastGood.capture()
        lastGoodPosition = position
    }

    /// Reports a divergence found during the step that began at `start`, after putting the run back to
    /// its last good state.
    private func diverge(
        _ quantity: Divergence.Quantity, value: Float, tensor: String? = nil, rate: Float, at start: Position
    ) -> Outcome {
        let updated = quantity == .weights || quantity == .testLoss
        var divergence = Divergence(
            quantity: quantity, value: value, tensor: tensor, epoch: start.completedEpochs + 1, step: start.stepInEpoch + 1,
            stepsPerEpoch: stepsPerEpoch, globalStep: globalStep + (updated ? 0 : 1), learningRate: rate,
            peakLearningRate: config.learningRate, restoredEpoch: 0, restoredStep: 0, restoredGlobalStep: 0)
        lastGood.restore()
        position = lastGoodPosition!
        weightHistory.dropSnapshots(after: globalStep)
        (divergence.restoredEpoch, divergence.restoredStep, divergence.restoredGlobalStep) = (completedEpochs, stepInEpoch, globalStep)
        health.noteDivergence(divergence)
        return .diverged(divergence)
    }

    /// The test-set evaluation after the latest finished epoch.
    public private(set) var lastEvaluation: Evaluation?

    /// A test loss that is not finite, which ends the epoch without recording it.
    private struct NonFiniteTestLoss: Error {
        let value: Float
    }

    /// Evaluates and records the epoch whose steps are done; nil when `interruption` cut the
    /// evaluation short, a failure (nothing recorded) when the test loss is not finite. The last epoch is
    /// evaluated with the config's test-time augmentation, earlier ones on the plain images, as airbench
    /// does: every view is a pass over the test set, and six each epoch would cost a third of an `airbench` recipe epoch.
    private func finishEpoch(learningRate rate: Float) -> Result<TrainingHistory.Epoch, NonFiniteTestLoss>? {
        let isLast = completedEpochs + 1 == config.epochs
        let views = isLast ? config.evaluation.testTimeAugmentation : .none
        guard let evaluation = evaluator(views: views).evaluate(dataset.test, stoppingWhen: interruption, { network.infer($0) })
        else { return nil }
        guard evaluation.loss.isFinite else { return .failure(NonFiniteTestLoss(value: evaluation.loss)) }
        lastEvaluation = evaluation
        let tally = epochTally
        completedEpochs += 1
        stepInEpoch = 0
        let record = TrainingHistory.Epoch(
            epoch: completedEpochs, trainLoss: Float(tally.loss / Double(max(tally.seen, 1))),
            trainAccuracy: Float(tally.correct) / Float(max(tally.seen, 1)), testLoss: evaluation.loss,
            testAccuracy: evaluation.accuracy, learningRate: rate, seconds: tally.seconds, elapsedSeconds: trainingSeconds,
            imagesPerSecond: Double(tally.seen) / max(tally.seconds, 1e-9))
        history.epochs.append(record)
        sessionSeconds += tally.seconds
        epochTally = (0, 0, 0, 0)
        return .success(record)
    }

    /// The evaluator of this run's network: its batch size and borders, with `views` (by default the
    /// config's test-time augmentation).
    public func evaluator(views: TestTimeAugmentation? = nil) -> Evaluator {
        Evaluator(
            classes: network.classCount, batchSize: config.batchSize, views: views ?? config.evaluation.testTimeAugmentation,
            reflectingBorders: config.augmentation.reflectPadding)
    }
}
