import ArgumentParser
import ConvKit

/// The options that define a training run, shared by `train`, `distill` and the TUI.
struct TrainingOptions: ParsableArguments {
    @Option(name: .long, help: "A preset (tiny, simple, vgg, resnet20, fast, airbench) or a spec string (default simple; fast with --recipe fast, airbench with muon).")
    var model: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "standard; fast: the speed-run recipe (whitening, identity init, bn biases at 64x lr, look-ahead, linear decay, flip+translate TTA); muon: airbench94_muon's (Muon on the filters, SGD on biases and classifier, batch 2000, no look-ahead, alternating flips).",
            discussion: "With --recipe fast or muon only --model, --epochs, --batch, --lr, --seed and --train-limit apply."))
    var recipe = "standard"

    @Option(name: .long, help: "Epochs to train (default 15; 10 with --recipe fast, 8 with muon; with --resume, the run's own).")
    var epochs: Int?

    @Option(name: .customLong("batch"), help: "Images per step (default 128; 256 with --recipe fast, 2000 with muon).")
    var batchSize: Int?

    @Option(name: .long, help: "sgd, adam or adamw.")
    var optimizer = "sgd"

    @Option(name: .long, help: "Peak learning rate (default 0.1 for sgd, 0.001 for adam/adamw, 0.2 for --recipe fast, 0.24 for muon's filters).")
    var lr: Float?

    @Option(name: .long, help: "onecycle[:WARMUP], cosine, step[:EPOCHS:GAMMA] or constant.")
    var schedule = "onecycle"

    @Option(name: .long, help: "SGD momentum.")
    var momentum: Float = 0.9

    @Flag(name: .long, inversion: .prefixedNo, help: "Nesterov momentum for SGD.")
    var nesterov = true

    @Option(name: .customLong("weight-decay"), help: "Weight decay on conv and fc weights (not biases or batch norm).")
    var weightDecay: Float = 5e-4

    @Option(name: .customLong("label-smoothing"), help: "Label smoothing of the cross-entropy loss.")
    var labelSmoothing: Float = 0.1

    @Option(name: .long, help: "Weight init: he (conv He-normal, fc PyTorch default), xavier, torch (PyTorch default everywhere) or normal[:STD] (default: he for ReLU nets; --recipe muon: torch).")
    var initializer: String?

    @Option(name: .long, help: "Seed for init, shuffling, augmentation and dropout.")
    var seed: UInt64 = 0

    @Flag(name: .long, inversion: .prefixedNo, help: "Random 32x32 crop of the image padded by 4 px.")
    var crop = true

    @Flag(name: .long, inversion: .prefixedNo, help: "Random horizontal flip.")
    var flip = true

    @Option(name: .long, help: "Random rotation up to this many degrees (0: off).")
    var rotate: Float = 0

    @Option(name: .customLong("color-jitter"), help: "Brightness/contrast/saturation jitter of this strength (0: off).")
    var colorJitter: Float = 0

    @Option(name: .customLong("train-limit"), help: "Train on only the first N training images.")
    var trainLimit: Int?

    func validate() throws {
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1, not \(epochs)") }
        if let batchSize, batchSize < 1 { throw ValidationError("--batch must be at least 1, not \(batchSize)") }
        guard let kind = Optimizer.Kind(rawValue: optimizer), kind != .muon else {
            throw ValidationError("--optimizer must be sgd, adam or adamw, not '\(optimizer)' (Muon comes with --recipe muon)")
        }
        guard LearningRateSchedule(schedule) != nil else {
            throw ValidationError("--schedule must be onecycle[:WARMUP], cosine, step[:EPOCHS:GAMMA] or constant, not '\(schedule)'")
        }
        if let lr, !(lr > 0) { throw ValidationError("--lr must be positive, not \(lr)") }
        if let initializer, Initializer(parsing: initializer) == nil {
            throw ValidationError("--initializer must be he, xavier, torch or normal[:STD], not '\(initializer)'")
        }
        guard (0..<1).contains(labelSmoothing) else { throw ValidationError("--label-smoothing must be in [0, 1)") }
        guard rotate >= 0 && rotate <= 180 else { throw ValidationError("--rotate must be between 0 and 180 degrees") }
        guard colorJitter >= 0 && colorJitter < 1 else { throw ValidationError("--color-jitter must be in [0, 1)") }
        if let trainLimit, trainLimit < 1 { throw ValidationError("--train-limit must be at least 1") }
        guard ["standard", "fast", "muon"].contains(recipe) else { throw ValidationError("--recipe must be standard, fast or muon, not '\(recipe)'") }
        try validateModel(modelName)
    }

    /// The model to train: `--model`, or the recipe's default.
    var modelName: String { model ?? ["fast": "fast", "muon": "airbench"][recipe] ?? ModelSpec.defaultPreset }

    /// The run these options describe.
    var config: TrainingConfig {
        if recipe != "standard" {
            var config =
                recipe == "fast"
                ? TrainingConfig.fast(model: modelName, epochs: epochs ?? 10, batchSize: batchSize ?? 256, learningRate: lr ?? 0.2, seed: seed)
                : TrainingConfig.muon(model: modelName, epochs: epochs ?? 8, batchSize: batchSize ?? 2000, learningRate: lr ?? 0.24, seed: seed)
            config.trainLimit = trainLimit
            if let initializer { config.initializer = Initializer(parsing: initializer) }
            return config
        }
        let kind = Optimizer.Kind(rawValue: optimizer)!
        return TrainingConfig(
            model: modelName, epochs: epochs ?? 15, batchSize: batchSize ?? 128, learningRate: lr ?? (kind == .sgd ? 0.1 : 0.001),
            schedule: LearningRateSchedule(schedule)!,
            optimizer: Optimizer.Settings(kind: kind, momentum: momentum, nesterov: nesterov, weightDecay: weightDecay),
            labelSmoothing: labelSmoothing,
            augmentation: Augmentation(
                crop: crop, horizontalFlip: flip, rotation: rotate > 0, maxRotationDegrees: rotate > 0 ? rotate : 15,
                colorJitter: colorJitter > 0, brightness: colorJitter, contrast: colorJitter, saturation: colorJitter),
            initializer: initializer.flatMap(Initializer.init(parsing:)), seed: seed, trainLimit: trainLimit)
    }
}

/// Refuses a `--model` that does not build, as a usage error pointing at the bad token.
func validateModel(_ model: String) throws {
    do {
        _ = try Network(model)
    } catch {
        throw ValidationError("--model: \(error)")
    }
}
