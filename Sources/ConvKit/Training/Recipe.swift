/// The named training configurations: the reference's plain recipe and two speed-run recipes. Each
/// takes the few choices any recipe leaves open (model, length, batch, rate, seed) and sets everything
/// else itself; the command line and the app change a recipe's result only through `TrainingConfig`.
public enum Recipe: String, Codable, Sendable, CaseIterable {
    /// The reference recipe of `../shared/bench/train_reference.py` (`TrainingConfig()`).
    case standard
    /// airbench94_muon's recipe on the `airbench` preset: 94% in 8 epochs.
    case airbench
    /// The look-ahead recipe on the small `quick` preset: about 90% in 10 epochs.
    case quick

    /// Names that were recipes once, with where each went (for a refusal that points the way). Until
    /// 2026-12-02 the 94% recipe was `muon`; until 2026-12-03 it was `fast`, the name of the other
    /// recipe's preset (now `quick`).
    public static let retiredNames = [
        "fast": "the 94% recipe is now called airbench, after its preset; --recipe quick trains the preset once called fast, now quick",
        "muon": "the Muon recipe is now called airbench",
    ]

    /// The recipe's configuration; a nil argument takes the recipe's own value. `optimizer` chooses the
    /// standard recipe's update rule (and its default rate: 0.1 for SGD, 0.001 for Adam and AdamW); the
    /// speed-run recipes bring their own.
    public func configuration(
        model: String? = nil, epochs: Int? = nil, batchSize: Int? = nil, learningRate: Float? = nil, seed: UInt64 = 0,
        optimizer: Optimizer.Kind = .sgd
    ) -> TrainingConfig {
        switch self {
        case .standard:
            return TrainingConfig(
                model: model ?? ModelSpec.defaultPreset, epochs: epochs ?? 15, batchSize: batchSize ?? 128,
                learningRate: learningRate ?? (optimizer == .sgd ? 0.1 : 0.001), optimizer: Optimizer.Settings(kind: optimizer),
                seed: seed)
        case .airbench:
            return Recipe.airbench(model: model, epochs: epochs, batchSize: batchSize, learningRate: learningRate, seed: seed)
        case .quick:
            return Recipe.quick(model: model, epochs: epochs, batchSize: batchSize, learningRate: learningRate, seed: seed)
        }
    }

    /// The short speed-run recipe (about 90% in 10 minutes on the `quick` preset), after Page's ResNet-9
    /// and airbench: a frozen patch-whitening first layer, convolutions started as identities, batch norm
    /// trained through its biases only (at 64x the learning rate, running estimates at momentum 0.4),
    /// label smoothing 0.2, Nesterov SGD with a linear warm-up and linear decay, look-ahead that
    /// strengthens towards the end, flips and 2-pixel translations, and flip+translate test-time averaging
    /// of the last evaluation. Its own values: the `quick` preset, 10 epochs, batch 256, rate 0.2.
    private static func quick(model: String?, epochs: Int?, batchSize: Int?, learningRate: Float?, seed: UInt64) -> TrainingConfig {
        var config = TrainingConfig(
            model: model ?? "quick", epochs: epochs ?? 10, batchSize: batchSize ?? 256, learningRate: learningRate ?? 0.2,
            schedule: .linear(warmup: 0.2),
            optimizer: Optimizer.Settings(kind: .sgd, momentum: 0.9, nesterov: true, weightDecay: 5e-4), labelSmoothing: 0.2,
            augmentation: Augmentation(crop: true, cropPadding: 2, horizontalFlip: true), seed: seed)
        config.speedRun = TrainingConfig.SpeedRunParts(whitening: true, batchNormMomentum: 0.4)
        config.optimizer.lookahead = true
        config.optimizer.groups.batchNormBiasRateScale = 64
        config.evaluation.testTimeAugmentation = .flipTranslate
        config.initialization.identity = true
        return config
    }

    /// The 94% speed-run recipe, after airbench94_muon, on the `airbench` preset by default: the `quick`
    /// recipe's whitening, identity init, bias-only batch norm (running momentum 0.4), label smoothing and
    /// six-view test-time augmentation, with Muon at 0.24 on the filters (momentum 0.6), Nesterov SGD at
    /// momentum 0.85 on the rest, batch 2000, a linear decay from the first step, no look-ahead, flips
    /// that alternate per image from epoch to epoch, crops and shifted test views that mirror the image at
    /// its borders, and PyTorch's default initialisation under the identities.
    ///
    /// airbench sums the loss over the batch where this engine averages it, so its SGD rates are 2000x
    /// larger here: batch-norm biases at 0.053 * 2000 = 106 (441.7x the filters' 0.24), the classifier at
    /// 0.67 * 2000 / 256^2 = 0.0204 (0.085x; airbench divides the classifier's output by its 256 inputs,
    /// which is a plain layer at a 256^2-times smaller rate). Those groups lose 2e-6 * 2000 = 0.004 of
    /// their weights per step (times the schedule's factor) to weight decay; the filters take none.
    /// The same division makes airbench's classifier, drawn at std 1 without a bias, a bias-free layer
    /// starting at std 1/256; and its whitening bias trains for the first 3 epochs at the biases' rate.
    /// Its own values: the `airbench` preset, 8 epochs, batch 2000, rate 0.24.
    private static func airbench(model: String?, epochs: Int?, batchSize: Int?, learningRate: Float?, seed: UInt64) -> TrainingConfig {
        let epochs = epochs ?? 8, learningRate = learningRate ?? 0.24
        var config = TrainingConfig(
            model: model ?? "airbench", epochs: epochs, batchSize: batchSize ?? 2000, learningRate: learningRate,
            schedule: .linear(warmup: 0),
            optimizer: Optimizer.Settings(kind: .muon, momentum: 0.85, nesterov: true, weightDecay: 0.004 / learningRate, filterMomentum: 0.6),
            labelSmoothing: 0.2, augmentation: Augmentation(crop: true, cropPadding: 2, horizontalFlip: true), seed: seed)
        config.augmentation.reflectPadding = true
        config.augmentation.alternatingFlip = true
        config.initialization = TrainingConfig.Initialization(initializer: .torch, identity: true, classifierStd: 1.0 / 256)
        config.speedRun = TrainingConfig.SpeedRunParts(whitening: true, batchNormMomentum: 0.4)
        config.evaluation.testTimeAugmentation = .flipTranslate
        config.optimizer.groups = TrainingConfig.ParameterGroups(
            batchNormBiasRateScale: 106 / learningRate, classifierRateScale: 0.0204 / learningRate)
        config.schedule.whiteningBiasEpochs = min(3, epochs)
        return config
    }
}

extension TrainingConfig {
    /// `Recipe.quick`'s configuration (a nil argument takes the recipe's own value).
    public static func quick(
        model: String? = nil, epochs: Int? = nil, batchSize: Int? = nil, learningRate: Float? = nil, seed: UInt64 = 0
    ) -> TrainingConfig {
        Recipe.quick.configuration(model: model, epochs: epochs, batchSize: batchSize, learningRate: learningRate, seed: seed)
    }

    /// `Recipe.airbench`'s configuration (a nil argument takes the recipe's own value).
    public static func airbench(
        model: String? = nil, epochs: Int? = nil, batchSize: Int? = nil, learningRate: Float? = nil, seed: UInt64 = 0
    ) -> TrainingConfig {
        Recipe.airbench.configuration(model: model, epochs: epochs, batchSize: batchSize, learningRate: learningRate, seed: seed)
    }
}
