import Foundation

/// Runs training: owns the network, the optimiser and the data order, and is the only writer of the
/// weights. The CLI drives it in a loop; the TUI drives it from a background queue between commands.
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

    private let trainSet: ImageSet
    /// Assembles the next batch on a second queue while a step runs.
    private let batches = BatchPrefetcher()
    /// Whether a step starts assembling the next batch on a second queue while it computes. On by default;
    /// off gives exactly the same run, assembling each batch when its step begins.
    public var prefetchesBatches = true
    private let loss: CrossEntropyLoss
    private let logitGradient = FloatBuffer()
    private var order: [Int] = []
    /// The epoch `order` was shuffled for.
    private var orderEpoch = -1
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

    /// A fresh run: builds and initialises the network from the config.
    public convenience init(config: TrainingConfig, dataset: Dataset) throws(ModelSpecError) {
        let network = try Network(spec: try ModelSpec(config.model), seed: config.seed)
        var random = RandomSource(seed: config.seed, stream: 0xC0FF_EE)
        (config.initializer ?? Initializer.automatic(for: network.spec)).initialize(network, random: &random)
        if config.identityInit { Initializer.setIdentity(network) }
        if let std = config.classifierInitStd, let classifier = Trainer.classifier(of: network) {
            Initializer.rescale(classifier.weight, toStandardDeviation: std)
            classifier.bias.values.update(repeating: 0)
        }
        if config.whitening, let first = network.layers.first as? Conv2d {
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
        optimizer = Optimizer(config.optimizer, parameters: network.parameters)
        trainSet = config.trainLimit.map { dataset.train.subset(first: $0) } ?? dataset.train
        stepsPerEpoch = max(1, trainSet.count / config.batchSize)
        loss = CrossEntropyLoss(labelSmoothing: config.labelSmoothing)
        self.history = history
        completedEpochs = history.epochs.count
        elapsedBefore = history.epochs.last?.elapsedSeconds ?? 0
        if config.whitening, let first = network.layers.first as? Conv2d {
            first.parameters.forEach { $0.isFrozen = true }
        }
        for norm in network.allLayers.compactMap({ $0 as? BatchNorm2d }) {
            if let scale = config.batchNormBiasRateScale {
                norm.weight.isFrozen = true
                norm.bias.rateScale = scale
                norm.bias.decays = true
            }
            if let momentum = config.batchNormMomentum { norm.momentum = momentum }
        }
        if let scale = config.classifierRateScale {
            for linear in network.allLayers.compactMap({ $0 as? Linear }) { linear.parameters.forEach { $0.rateScale = scale } }
        }
        if config.classifierInitStd != nil { Trainer.classifier(of: network)?.bias.isFrozen = true }
        whiteningBias = config.whitening && config.whiteningBiasEpochs > 0 ? (network.layers.first as? Conv2d)?.bias : nil
        whiteningBias?.decays = true
        let slowWeights: [(weights: FloatBuffer, slow: FloatBuffer, count: Int, name: String)] = config.lookahead
            ? network.stateTensors.compactMap { state in
                guard case let .float(buffer, layout) = state.content else { return nil }
                return (buffer, FloatBuffer(buffer.array(layout.count)), layout.count, state.name)
            } : []
        lookahead = slowWeights
        lastGood = StateCopy(
            of: network.stateTensors + optimizer.stateTensors
                + slowWeights.map { StateTensor(name: $0.name, content: .float($0.slow, .plain([$0.count]))) })
    }

    /// The network's last fully connected layer, which `classifierInitStd` starts small and without bias.
    private static func classifier(of network: Network) -> Linear? {
        network.allLayers.last { $0 is Linear } as? Linear
    }

    /// The whitening convolution's bias while `config.whiteningBiasEpochs` trains it.
    private var whiteningBias: Parameter?

    /// Look-ahead (Zhang et al. 2019): every `lookaheadPeriod` steps the slow weights move towards
    /// the fast ones and the fast ones restart from there. Pairs of (weights, slow copy).
    private var lookahead: [(weights: FloatBuffer, slow: FloatBuffer, count: Int, name: String)] = []
    static let lookaheadPeriod = 5

    /// The share of the slow weights kept at a look-ahead sync after `step` of `totalSteps` steps,
    /// airbench's schedule: `0.95^5 * (step / totalSteps)^3`. Early syncs keep almost nothing, so the
    /// run moves at the optimiser's full speed, and the averaging strengthens towards the end
    /// (0.77 at the last step). A constant 0.77 from the start held the `fast` recipe to 84.19% after
    /// 10 epochs (seed 0), where this schedule reaches 88.83%.
    public static func lookaheadRetention(step: Int, totalSteps: Int) -> Float {
        let progress = Float(step) / Float(max(totalSteps, 1))
        return 0.773_780_9 * progress * progress * progress
    }

    /// The optimiser's state and the look-ahead's slow weights: what a checkpoint keeps to resume exactly.
    public var resumableState: [StateTensor] {
        optimizer.stateTensors + lookahead.map { pair in
            StateTensor(name: "optimizer.lookahead.\(pair.name)", content: .float(pair.slow, .plain([pair.count])))
        }
    }

    private func lookaheadSync(afterStep step: Int) {
        let move = 1 - Trainer.lookaheadRetention(step: step, totalSteps: totalSteps)
        for pair in lookahead {
            let fast = pair.weights.base, slow = pair.slow.base
            for i in 0..<pair.count {
                slow[i] += move * (fast[i] - slow[i])
                fast[i] = slow[i]
            }
        }
    }

    /// airbench's alternating flips: whether training image `image` is mirrored in epoch `epoch`. Each
    /// image has a coin fixed by the seed and flips sides every epoch, so any two consecutive epochs show it
    /// both ways, where independent coins show a quarter of the images the same way twice.
    public static func alternatingFlip(image: Int, epoch: Int, seed: UInt64) -> Bool {
        var coin = RandomSource(seed: seed, stream: 0xF11F_0000_0000 &+ UInt64(image))
        return (coin.uniform() < 0.5) != (epoch % 2 == 1)
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
        learningRateScale * config.schedule.rate(
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
        let started = DispatchTime.now().uptimeNanoseconds
        if orderEpoch != completedEpochs {
            var shuffle = RandomSource(seed: config.seed, stream: UInt64(completedEpochs) &+ 0x5EED)
            order = shuffle.permutation(trainSet.count)
            orderEpoch = completedEpochs
        }
        let step = globalStep, index = stepInEpoch
        let (x, labels) = batches.batch(
            BatchPrefetcher.Key(epoch: completedEpochs, stepInEpoch: index, globalStep: step), of: trainSet
        ) { transforms(stepInEpoch: index, globalStep: step) }
        if prefetchesBatches && index + 1 < stepsPerEpoch {
            batches.prefetch(
                BatchPrefetcher.Key(epoch: completedEpochs, stepInEpoch: index + 1, globalStep: step + 1), of: trainSet,
                transforms: transforms(stepInEpoch: index + 1, globalStep: step + 1))
        }
        for (index, layer) in network.allLayers.enumerated() {
            guard let dropout = layer as? Dropout else { continue }
            dropout.random = RandomSource(seed: config.seed &+ UInt64(index) &* 0x9E37_79B9, stream: UInt64(step))
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
        if let whiteningBias { scheduleWhiteningBias(whiteningBias, step: step, rate: rate) }
        optimizer.step(rate: rate, momentum: config.schedule.momentum(step: step, totalSteps: totalSteps))
        if !lookahead.isEmpty && (step + 1) % Trainer.lookaheadPeriod == 0 { lookaheadSync(afterStep: step + 1) }
        stepInEpoch += 1
        epochTally.loss += Double(result.loss) * Double(x.batch)
        epochTally.correct += result.correct
        epochTally.seen += x.batch
        epochTally.seconds += Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let record = TrainingHistory.Step(
            step: step + 1, loss: result.loss, accuracy: Float(result.correct) / Float(x.batch), learningRate: rate)
        history.steps.append(record)
        guard stepInEpoch == stepsPerEpoch else { return .step(record) }
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
            return .epochFinished(record, epoch, lastEvaluation!)
        }
    }

    /// The augmented images of step `stepInEpoch` of the epoch `order` is shuffled for, global step `step`:
    /// drawn from that step's own random stream, so drawing them a step early (to prefetch) changes nothing.
    private func transforms(stepInEpoch: Int, globalStep step: Int) -> [ImageTransform] {
        var random = RandomSource(seed: config.seed, stream: 0x1_0000_0000 &+ UInt64(step))
        let batchIndices = order[(stepInEpoch * config.batchSize)..<min((stepInEpoch + 1) * config.batchSize, order.count)]
        var transforms = batchIndices.map { config.augmentation.draw(source: $0, &random) }
        if config.alternatingFlip {
            for i in transforms.indices {
                transforms[i].flip = Trainer.alternatingFlip(image: transforms[i].source, epoch: completedEpochs, seed: config.seed)
            }
        }
        return transforms
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
        (divergence.restoredEpoch, divergence.restoredStep, divergence.restoredGlobalStep) = (completedEpochs, stepInEpoch, globalStep)
        return .diverged(divergence)
    }

    /// Thaws the whitening bias for the first `whiteningBiasEpochs` epochs, at the batch-norm biases' rate
    /// times its own linear decay, 1 - step / (its steps), whatever the run's schedule gives the others.
    private func scheduleWhiteningBias(_ bias: Parameter, step: Int, rate: Float) {
        let span = config.whiteningBiasEpochs * stepsPerEpoch
        let scheduleFactor = rate / (learningRateScale * config.learningRate)
        bias.isFrozen = step >= span || !(scheduleFactor > 0)
        guard !bias.isFrozen else { return }
        let decay = 1 - Float(step) / Float(span)
        bias.rateScale = (config.batchNormBiasRateScale ?? 1) * decay / scheduleFactor
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
    /// does: every view is a pass over the test set, and six each epoch would cost a third of a `fast` epoch.
    private func finishEpoch(learningRate rate: Float) -> Result<TrainingHistory.Epoch, NonFiniteTestLoss>? {
        let isLast = completedEpochs + 1 == config.epochs
        let views = isLast ? config.testTimeAugmentation : .none
        guard let evaluation = evaluate(dataset.test, views: views, stoppingWhen: interruption) else { return nil }
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

    /// Loss (without label smoothing), accuracy and confusion matrix of the network on `set`, in
    /// inference mode, with the config's test-time augmentation.
    public func evaluate(_ set: ImageSet) -> Evaluation {
        evaluate(set, views: config.testTimeAugmentation, stoppingWhen: StopSignal())!
    }

    /// `evaluate(_:)` with the given views, giving up between batches once `stop` is raised (then nil).
    public func evaluate(_ set: ImageSet, views: TestTimeAugmentation, stoppingWhen stop: StopSignal) -> Evaluation? {
        Trainer.evaluate(
            classes: network.classCount, on: set, batchSize: config.batchSize, views: views,
            reflectingBorders: config.augmentation.reflectPadding, stoppingWhen: stop
        ) { network.infer($0) }
    }

    /// Evaluates any network on a set, batch by batch, in inference mode.
    public static func evaluate(_ network: Network, on set: ImageSet, batchSize: Int = 128) -> Evaluation {
        evaluate(classes: network.classCount, on: set, batchSize: batchSize) { network.infer($0) }
    }

    /// Evaluates any classifier given as a function from normalised image batches to class scores;
    /// each image's scores are the weighted mean over the `views` of it.
    public static func evaluate(
        classes: Int, on set: ImageSet, batchSize: Int = 128, views: TestTimeAugmentation = .none, reflectingBorders: Bool = false,
        _ forward: (Tensor) -> Tensor
    ) -> Evaluation {
        evaluate(
            classes: classes, on: set, batchSize: batchSize, views: views, reflectingBorders: reflectingBorders,
            stoppingWhen: StopSignal(), forward)!
    }

    /// `evaluate(classes:on:batchSize:views:_:)` that gives up between batches once `stop` is raised,
    /// and then returns nil. Shifted views mirror the image at its borders when `reflectingBorders` is
    /// set (as the run's crops did, `Augmentation.reflectPadding`).
    public static func evaluate(
        classes: Int, on set: ImageSet, batchSize: Int = 128, views: TestTimeAugmentation = .none, reflectingBorders: Bool = false,
        stoppingWhen stop: StopSignal, _ forward: (Tensor) -> Tensor
    ) -> Evaluation? {
        let averaged = FloatBuffer()
        var confusion = [[Int]](repeating: [Int](repeating: 0, count: classes), count: classes)
        var totalLoss = 0.0
        var predictions = [UInt8](repeating: 0, count: set.count)
        let buffer = FloatBuffer()
        var labels: [Int] = []
        let assembler = BatchAssembler(), plain = CrossEntropyLoss()
        var first = 0
        while first < set.count {
            if stop.isRaised { return nil }
            let indices = first..<min(first + batchSize, set.count)
            let logits = averaged.tensor(batch: indices.count, shape: FeatureShape(channels: classes, height: 1, width: 1))
            logits.pointer.update(repeating: 0, count: logits.count)
            for view in views.views {
                let transforms = indices.map { index in
                    var transform = ImageTransform(source: index)
                    (transform.shiftX, transform.shiftY, transform.flip) = (view.shift, view.shift, view.flip)
                    transform.reflects = reflectingBorders
                    return transform
                }
                let scores = forward(assembler.assemble(set, transforms: transforms, into: buffer, labels: &labels))
                precondition(scores.count == logits.count, "a classifier gives \(classes) scores per image")
                for i in 0..<logits.count { logits.pointer[i] += view.weight * scores.pointer[i] }
            }
            totalLoss += Double(plain.evaluate(logits: logits, labels: labels).loss) * Double(indices.count)
            for n in 0..<indices.count {
                let row = logits.sample(n)
                var best = 0
                for c in 1..<classes where row[c] > row[best] { best = c }
                confusion[labels[n]][best] += 1
                predictions[indices.lowerBound + n] = UInt8(best)
            }
            first = indices.upperBound
        }
        let correct = (0..<classes).map { confusion[$0][$0] }.reduce(0, +)
        return Evaluation(
            loss: Float(totalLoss / Double(max(set.count, 1))), accuracy: Float(correct) / Float(max(set.count, 1)),
            confusion: confusion, predictions: predictions)
    }
}
