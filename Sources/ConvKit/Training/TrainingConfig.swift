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
    /// The views of each test image whose scores are averaged in the last epoch's evaluation (earlier
    /// epochs look at the plain images).
    public var testTimeAugmentation = TestTimeAugmentation.none
    /// Train batch norm as airbench does: scales fixed at 1, shifts (biases) at this multiple of the
    /// learning rate and decayed like weights. nil trains both the usual way.
    public var batchNormBiasRateScale: Float?
    /// How far each batch moves batch norm's running estimates; nil keeps PyTorch's 0.1. Biases that
    /// move fast need running estimates that follow them (airbench: 0.4).
    public var batchNormMomentum: Float?
    /// Start every convolution as the identity on its first channels (`Initializer.setIdentity`).
    public var identityInit = false
    /// A factor on the learning rate of the fully connected layers; nil leaves it at 1.
    public var classifierRateScale: Float?
    /// Mirror each training image on every other epoch (`Trainer.alternatingFlip`), in place of the
    /// augmentation's coin per image and step.
    public var alternatingFlip = false
    /// airbench's classifier: the fully connected layer's weights start at this standard deviation (their
    /// draw rescaled to it) and its bias stays at zero. nil keeps the initializer's draw and a trained bias.
    public var classifierInitStd: Float?
    /// Train the whitening convolution's bias (frozen with its filters otherwise) during the first N
    /// epochs, at the batch-norm biases' rate decaying linearly to zero over those epochs, as airbench
    /// does for 3 of its 8. 0 keeps it frozen at zero.
    public var whiteningBiasEpochs = 0

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

    /// The short speed-run recipe (`--recipe quick`: about 90% in 10 minutes on the `fast` preset), after
    /// Page's ResNet-9 and airbench: a frozen patch-whitening first layer, convolutions started as
    /// identities, batch norm trained through its biases only (at 64x the learning rate, running
    /// estimates at momentum 0.4), label smoothing 0.2, Nesterov SGD with a linear warm-up and linear
    /// decay, look-ahead that strengthens towards the end, flips and 2-pixel translations, and
    /// flip+translate test-time averaging of the last evaluation. A nil argument takes the recipe's own
    /// value: the `fast` preset, 10 epochs, batch 256, rate 0.2.
    public static func quick(
        model: String? = nil, epochs: Int? = nil, batchSize: Int? = nil, learningRate: Float? = nil, seed: UInt64 = 0
    ) -> TrainingConfig {
        var config = TrainingConfig(
            model: model ?? "fast", epochs: epochs ?? 10, batchSize: batchSize ?? 256, learningRate: learningRate ?? 0.2,
            schedule: .linear(warmup: 0.2),
            optimizer: Optimizer.Settings(kind: .sgd, momentum: 0.9, nesterov: true, weightDecay: 5e-4), labelSmoothing: 0.2,
            augmentation: Augmentation(crop: true, cropPadding: 2, horizontalFlip: true), seed: seed)
        config.whitening = true
        config.lookahead = true
        config.testTimeAugmentation = .flipTranslate
        config.batchNormBiasRateScale = 64
        config.batchNormMomentum = 0.4
        config.identityInit = true
        return config
    }

    /// The speed-run recipe (`--recipe fast`: 94% in 8 epochs), after airbench94_muon, on the `airbench`
    /// preset by default: the `quick` recipe's whitening, identity init, bias-only batch norm (running
    /// momentum 0.4), label smoothing and six-view test-time augmentation, with Muon at 0.24 on the
    /// filters (momentum 0.6), Nesterov SGD at momentum 0.85 on the rest, batch 2000, a linear decay from
    /// the first step, no look-ahead, flips that alternate per image from epoch to epoch, crops and
    /// shifted test views that mirror the image at its borders, and PyTorch's default initialisation
    /// under the identities.
    ///
    /// airbench sums the loss over the batch where this engine averages it, so its SGD rates are 2000x
    /// larger here: batch-norm biases at 0.053 * 2000 = 106 (441.7x the filters' 0.24), the classifier at
    /// 0.67 * 2000 / 256^2 = 0.0204 (0.085x; airbench divides the classifier's output by its 256 inputs,
    /// which is a plain layer at a 256^2-times smaller rate). Those groups lose 2e-6 * 2000 = 0.004 of
    /// their weights per step (times the schedule's factor) to weight decay; the filters take none.
    /// The same division makes airbench's classifier, drawn at std 1 without a bias, a bias-free layer
    /// starting at std 1/256; and its whitening bias trains for the first 3 epochs at the biases' rate.
    /// A nil argument takes the recipe's own value: the `airbench` preset, 8 epochs, batch 2000, rate 0.24.
    public static func fast(
        model: String? = nil, epochs: Int? = nil, batchSize: Int? = nil, learningRate: Float? = nil, seed: UInt64 = 0
    ) -> TrainingConfig {
        let epochs = epochs ?? 8, learningRate = learningRate ?? 0.24
        var config = TrainingConfig(
            model: model ?? "airbench", epochs: epochs, batchSize: batchSize ?? 2000, learningRate: learningRate,
            schedule: .linear(warmup: 0),
            optimizer: Optimizer.Settings(kind: .muon, momentum: 0.85, nesterov: true, weightDecay: 0.004 / learningRate, filterMomentum: 0.6),
            labelSmoothing: 0.2, augmentation: Augmentation(crop: true, cropPadding: 2, horizontalFlip: true), seed: seed)
        config.augmentation.reflectPadding = true
        config.initializer = .torch
        config.whitening = true
        config.testTimeAugmentation = .flipTranslate
        config.batchNormBiasRateScale = 106 / learningRate
        config.batchNormMomentum = 0.4
        config.identityInit = true
        config.classifierRateScale = 0.0204 / learningRate
        config.classifierInitStd = 1.0 / 256
        config.alternatingFlip = true
        config.whiteningBiasEpochs = min(3, epochs)
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
        if testTimeAugmentation != .none { parts.append("\(testTimeAugmentation.rawValue) TTA") }
        if let scale = batchNormBiasRateScale { parts.append("bn biases only at \(Int(scale))x lr") }
        if let momentum = batchNormMomentum { parts.append("bn momentum \(momentum)") }
        if identityInit { parts.append("identity init") }
        if let scale = classifierRateScale { parts.append("fc at \((scale * 1000).rounded() / 1000)x lr") }
        if alternatingFlip { parts.append("alternating flips") }
        if let std = classifierInitStd { parts.append("bias-free fc from std \(std)") }
        if whiteningBiasEpochs > 0 {
            parts.append("whitening bias for the first \(whiteningBiasEpochs) epoch\(whiteningBiasEpochs == 1 ? "" : "s")")
        }
        parts.append("seed \(seed)")
        return parts.joined(separator: ", ")
    }
}
