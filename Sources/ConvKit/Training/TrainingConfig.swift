import Foundation

/// Everything that defines a training run, as data: the model, the run's length and batch, and one
/// section per concern (the optimiser and its parameter groups, the schedules, the loss, augmentation,
/// evaluation, initialisation, and the speed-run recipes' own parts).
///
/// Checkpoints keep it as JSON through `Codable` (`RunCheckpoint`), so a setting added here is saved
/// and resumed without anyone writing a serialiser for it; `formatVersion` says which layout a
/// checkpoint holds (version 1, the flat layout of earlier checkpoints, reads through
/// `TrainingConfig(version1:model:)`). Named configurations are `Recipe`s; `validate()` is the one
/// check the command line and the app both run before training.
///
/// The defaults are the reference recipe of `../shared/bench/train_reference.py`: SGD with Nesterov
/// momentum 0.9, weight decay 5e-4 on weights, one-cycle learning rate peaking at 0.1 with 15% warm-up,
/// label smoothing 0.1, random crop with 4 px padding and horizontal flips, batch 128.
public struct TrainingConfig: Codable, Sendable, Equatable {
    /// The layout `jsonText()` writes; a checkpoint naming a later one was written by a newer ConvScope.
    public static let formatVersion = 2
    /// The layout this value was read from or is written in (always `formatVersion` once read).
    public private(set) var version = TrainingConfig.formatVersion

    /// A preset name or a spec string (`ModelSpec`).
    public var model: String
    public var epochs: Int
    public var batchSize: Int
    public var seed: UInt64
    /// Train on only the first N training images (quick experiments); nil uses all.
    public var trainLimit: Int?
    public var optimizer: Optimization
    public var schedule: Schedule
    public var loss: Loss
    public var augmentation: Augmentation
    public var evaluation: Evaluation
    public var initialization: Initialization
    public var speedRun: SpeedRunParts
    /// The matrix products' number format (`Precision`): fp32, or bf16 mixed precision. Kept only when not
    /// fp32, so fp32 configs read and write exactly as before the setting existed (a missing key is fp32).
    private var storedPrecision: Precision?

    /// The matrix products' number format: fp32 (the default), or bf16 operands with fp32 sums, master
    /// weights, batch norm and loss (`Precision.bf16`).
    public var precision: Precision {
        get { storedPrecision ?? .fp32 }
        set { storedPrecision = newValue == .fp32 ? nil : newValue }
    }

    private enum CodingKeys: String, CodingKey {
        case version, model, epochs, batchSize, seed, trainLimit, optimizer, schedule, loss, augmentation, evaluation
        case initialization, speedRun
        case storedPrecision = "precision"
    }

    /// The update rule, its peak rate, look-ahead and the parameter groups that step differently.
    public struct Optimization: Codable, Sendable, Equatable {
        public var update: Optimizer.Settings
        /// The peak learning rate (the schedule scales it).
        public var learningRate: Float
        /// Look-ahead on all weights and batch-norm statistics (every 5 steps, `LookaheadOptimizer`).
        public var lookahead = false
        public var groups = ParameterGroups()

        public init(update: Optimizer.Settings = Optimizer.Settings(), learningRate: Float = 0.1, lookahead: Bool = false) {
            self.update = update
            self.learningRate = learningRate
            self.lookahead = lookahead
        }
    }

    /// Parameters that train at their own rate or not at all (see `ParameterGroups.apply`).
    public struct ParameterGroups: Codable, Sendable, Equatable {
        /// Train batch norm as airbench does: scales fixed at 1, shifts (biases) at this multiple of the
        /// learning rate and decayed like weights. nil trains both the usual way.
        public var batchNormBiasRateScale: Float?
        /// A factor on the learning rate of the fully connected layers; nil leaves it at 1.
        public var classifierRateScale: Float?

        public init(batchNormBiasRateScale: Float? = nil, classifierRateScale: Float? = nil) {
            self.batchNormBiasRateScale = batchNormBiasRateScale
            self.classifierRateScale = classifierRateScale
        }
    }

    /// How rates move over the run: the learning rate's shape, and the per-parameter schedules.
    public struct Schedule: Codable, Sendable, Equatable {
        public var learningRate: LearningRateSchedule
        /// Train the whitening convolution's bias (frozen with its filters otherwise) during the first N
        /// epochs, at the batch-norm biases' rate decaying linearly to zero over those epochs, as airbench
        /// does for 3 of its 8. 0 keeps it frozen at zero.
        public var whiteningBiasEpochs = 0

        public init(learningRate: LearningRateSchedule = .standardOneCycle, whiteningBiasEpochs: Int = 0) {
            self.learningRate = learningRate
            self.whiteningBiasEpochs = whiteningBiasEpochs
        }
    }

    /// The training loss.
    public struct Loss: Codable, Sendable, Equatable {
        /// Label smoothing of the cross-entropy loss.
        public var labelSmoothing: Float

        public init(labelSmoothing: Float = 0.1) { self.labelSmoothing = labelSmoothing }
    }

    /// How the run is evaluated on the test set.
    public struct Evaluation: Codable, Sendable, Equatable {
        /// The views of each test image whose scores are averaged in the last epoch's evaluation (earlier
        /// epochs look at the plain images).
        public var testTimeAugmentation = TestTimeAugmentation.none

        public init(testTimeAugmentation: TestTimeAugmentation = .none) { self.testTimeAugmentation = testTimeAugmentation }
    }

    /// How the weights start.
    public struct Initialization: Codable, Sendable, Equatable {
        /// nil chooses by the model's activations (`Initializer.automatic`).
        public var initializer: Initializer?
        /// Start every convolution as the identity on its first channels (`Initializer.setIdentity`).
        public var identity = false
        /// airbench's classifier: the fully connected layer's weights start at this standard deviation
        /// (their draw rescaled to it) and its bias stays at zero. nil keeps the initializer's draw and a
        /// trained bias.
        public var classifierStd: Float?

        public init(initializer: Initializer? = nil, identity: Bool = false, classifierStd: Float? = nil) {
            self.initializer = initializer
            self.identity = identity
            self.classifierStd = classifierStd
        }
    }

    /// The parts of the speed-run recipes (`Recipe.airbench`, `Recipe.quick`) that fit no other section.
    public struct SpeedRunParts: Codable, Sendable, Equatable {
        /// Fix the first convolution to whitening filters of the training patches (`PatchWhitening`).
        public var whitening = false
        /// How far each batch moves batch norm's running estimates; nil keeps PyTorch's 0.1. Biases that
        /// move fast need running estimates that follow them (airbench: 0.4).
        public var batchNormMomentum: Float?

        public init(whitening: Bool = false, batchNormMomentum: Float? = nil) {
            self.whitening = whitening
            self.batchNormMomentum = batchNormMomentum
        }
    }

    public init(
        model: String = ModelSpec.defaultPreset, epochs: Int = 15, batchSize: Int = 128, learningRate: Float = 0.1,
        schedule: LearningRateSchedule = .standardOneCycle, optimizer: Optimizer.Settings = Optimizer.Settings(),
        labelSmoothing: Float = 0.1, augmentation: Augmentation = .standard, initializer: Initializer? = nil,
        seed: UInt64 = 0, trainLimit: Int? = nil
    ) {
        self.model = model
        self.epochs = epochs
        self.batchSize = batchSize
        self.seed = seed
        self.trainLimit = trainLimit
        self.optimizer = Optimization(update: optimizer, learningRate: learningRate)
        self.schedule = Schedule(learningRate: schedule)
        self.loss = Loss(labelSmoothing: labelSmoothing)
        self.augmentation = augmentation
        self.evaluation = Evaluation()
        self.initialization = Initialization(initializer: initializer)
        self.speedRun = SpeedRunParts()
    }

    /// The peak learning rate (`optimizer.learningRate`).
    public var learningRate: Float {
        get { optimizer.learningRate }
        set { optimizer.learningRate = newValue }
    }

    /// A one-line description for logs and headers.
    public var summary: String {
        let update = optimizer.update
        var parts = [
            "\(update.kind.rawValue) lr \(learningRate) (\(schedule.learningRate))", "batch \(batchSize)", "\(epochs) epochs",
            "wd \(update.weightDecay)",
        ]
        if update.kind == .sgd { parts.append("momentum \(update.momentum)\(update.nesterov ? " nesterov" : "")") }
        if loss.labelSmoothing > 0 { parts.append("smoothing \(loss.labelSmoothing)") }
        parts.append("aug \(augmentation)")
        if speedRun.whitening { parts.append("patch whitening") }
        if optimizer.lookahead { parts.append("look-ahead") }
        if evaluation.testTimeAugmentation != .none { parts.append("\(evaluation.testTimeAugmentation.rawValue) TTA") }
        if let scale = optimizer.groups.batchNormBiasRateScale { parts.append("bn biases only at \(Int(scale))x lr") }
        if let momentum = speedRun.batchNormMomentum { parts.append("bn momentum \(momentum)") }
        if initialization.identity { parts.append("identity init") }
        if let scale = optimizer.groups.classifierRateScale { parts.append("fc at \((scale * 1000).rounded() / 1000)x lr") }
        if augmentation.alternatingFlip { parts.append("alternating flips") }
        if let std = initialization.classifierStd { parts.append("bias-free fc from std \(std)") }
        if precision != .fp32 { parts.append("\(precision) products") }
        let biasEpochs = schedule.whiteningBiasEpochs
        if biasEpochs > 0 { parts.append("whitening bias for the first \(biasEpochs) epoch\(biasEpochs == 1 ? "" : "s")") }
        parts.append("seed \(seed)")
        return parts.joined(separator: ", ")
    }
}

extension TrainingConfig {
    /// The config as the JSON a checkpoint keeps: every field, snake_case keys, sorted.
    public func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// Reads `jsonText()`'s output; throws `TrainingConfigError` for a text of another format version or one
    /// that does not decode (a missing section, a number its field cannot hold such as a float past
    /// `Float`'s range or a negative seed), and for a config `validate()` refuses.
    public init(jsonText text: String) throws(TrainingConfigError) {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        struct Version: Decodable { let version: Int }
        guard let version = try? decoder.decode(Version.self, from: Data(text.utf8)).version else {
            throw TrainingConfigError(setting: .format, problem: "has no format version")
        }
        guard version == Self.formatVersion else {
            throw TrainingConfigError(
                setting: .format, problem: "is format version \(version), where this ConvScope reads \(Self.formatVersion)")
        }
        do {
            self = try decoder.decode(TrainingConfig.self, from: Data(text.utf8))
            precision = precision  // an explicit "fp32" reads as the default it is
        } catch {
            throw TrainingConfigError(setting: .format, problem: "does not read: \(error)")
        }
        try validate(checkingModel: false, checkingMachine: false)
    }
}
