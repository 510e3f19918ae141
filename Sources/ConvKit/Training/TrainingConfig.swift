/// Everything that defines a training run: model, data handling, optimiser and schedule, seed.
///
/// The defaults are the reference recipe of `../shared/bench/train_reference.py`: SGD with Nesterov
/// momentum 0.9, weight decay 5e-4 on weights, one-cycle learning rate peaking at 0.1 with 15% warm-up,
/// label smoothing 0.1, random crop with 4 px padding and horizontal flips, batch 128.
public struct TrainingConfig: Sendable, Equatable {
    public var model: String
    public var epochs: Int
    public var batchSize: Int
    /// The peak learning rate (the schedule scales it).
    public var learningRate: Float
    public var schedule: LearningRateSchedule
    public var optimizer: Optimizer.Settings
    public var labelSmoothing: Float
    public var augmentation: Augmentation
    /// nil chooses by the model's activations (`Initializer.automatic`).
    public var initializer: Initializer?
    public var seed: UInt64
    /// Train on only the first N training images (quick experiments); nil uses all.
    public var trainLimit: Int?
    /// Fix the first convolution to whitening filters of the training patches (`PatchWhitening`).
    public var whitening = false
    /// Look-ahead on all weights and batch-norm statistics (every 5 steps).
    public var lookahead = false
    /// Evaluate on each test image and its mirror image, averaging the scores.
    public var testTimeFlip = false

    public init(
        model: String = ModelSpec.defaultPreset, epochs: Int = 15, batchSize: Int = 128, learningRate: Float = 0.1,
        schedule: LearningRateSchedule = .standardOneCycle, optimizer: Optimizer.Settings = Optimizer.Settings(),
        labelSmoothing: Float = 0.1, augmentation: Augmentation = .standard, initializer: Initializer? = nil,
        seed: UInt64 = 0, trainLimit: Int? = nil
    ) {
        self.model = model
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.schedule = schedule
        self.optimizer = optimizer
        self.labelSmoothing = labelSmoothing
        self.augmentation = augmentation
        self.initializer = initializer
        self.seed = seed
        self.trainLimit = trainLimit
    }

    /// The speed-run recipe (`--recipe fast`), in the spirit of Page's ResNet-9 and airbench: a frozen
    /// patch-whitening first layer, label smoothing 0.2, Nesterov SGD with a linear warm-up and linear
    /// decay, look-ahead on the weights, flips and 2-pixel translations, and flip test-time averaging.
    public static func fast(model: String = "fast", epochs: Int = 10, batchSize: Int = 256, learningRate: Float = 0.2, seed: UInt64 = 0)
        -> TrainingConfig
    {
        var config = TrainingConfig(
            model: model, epochs: epochs, batchSize: batchSize, learningRate: learningRate, schedule: .linear(warmup: 0.2),
            optimizer: Optimizer.Settings(kind: .sgd, momentum: 0.9, nesterov: true, weightDecay: 5e-4), labelSmoothing: 0.2,
            augmentation: Augmentation(crop: true, cropPadding: 2, horizontalFlip: true), seed: seed)
        config.whitening = true
        config.lookahead = true
        config.testTimeFlip = true
        return config
    }

    /// A one-line description for logs and headers.
    public var summary: String {
        var parts = [
            "\(optimizer.kind.rawValue) lr \(learningRate) (\(schedule))", "batch \(batchSize)", "\(epochs) epochs",
            "wd \(optimizer.weightDecay)",
        ]
        if optimizer.kind == .sgd { parts.append("momentum \(optimizer.momentum)\(optimizer.nesterov ? " nesterov" : "")") }
        if labelSmoothing > 0 { parts.append("smoothing \(labelSmoothing)") }
        parts.append("aug \(augmentation)")
        if whitening { parts.append("patch whitening") }
        if lookahead { parts.append("look-ahead") }
        if testTimeFlip { parts.append("flip TTA") }
        parts.append("seed \(seed)")
        return parts.joined(separator: ", ")
    }
}
