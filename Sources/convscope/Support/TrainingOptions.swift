import ArgumentParser
import ConvKit
import ConvPresent
import ConvScopeUI

/// The options that define a training run, shared by `train`, `distill` and the TUI.
struct TrainingOptions: ParsableArguments {
    @Option(name: .long, help: "A preset (tiny, simple, vgg, resnet20, quick, airbench) or a spec string (default simple; with --recipe airbench or quick, the preset of that name).")
    var model: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "standard; airbench: the 94% speed-run recipe, airbench94_muon's (whitening, Muon on the filters, SGD on biases and classifier, batch 2000, alternating flips, flip+translate TTA); quick: about 90% in 10 minutes (whitening, identity init, bn biases at 64x lr, look-ahead, linear decay, flip+translate TTA).",
            discussion: "With --recipe airbench or quick only --model, --epochs, --batch, --lr, --seed, --initializer and --train-limit apply."),
        completion: .list(Recipe.allCases.map(\.rawValue)), transform: Recipe.init(option:))
    var recipe = Recipe.standard

    @Option(name: .long, help: "Epochs to train (default 15; 8 with --recipe airbench, 10 with quick; with --resume, the run's own).")
    var epochs: Int?

    @Option(name: .customLong("batch"), help: "Images per step (default 128; 2000 with --recipe airbench, 256 with quick).")
    var batchSize: Int?

    @Option(name: .long, help: "sgd, adam or adamw.")
    var optimizer = Optimizer.Kind.sgd

    @Option(name: .long, help: "Peak learning rate (default 0.1 for sgd, 0.001 for adam/adamw, 0.24 for --recipe airbench's filters, 0.2 for quick).")
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

    @Option(name: .long, help: "Weight init: he (conv He-normal, fc PyTorch default), xavier, torch (PyTorch default everywhere) or normal[:STD] (default: he for ReLU nets; --recipe airbench: torch).")
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

    @Option(
        name: .long,
        help: ArgumentHelp(
            "fp32, or bf16: bf16 operands in the convolution and fully connected products, summed in fp32, with fp32 weights, batch norm and loss (CPUs with avx512_bf16).",
            discussion: "Applies to every recipe. Refused where the CPU lacks avx512_bf16 or CONVSCOPE_KERNELS picks a path below avx512; CONVSCOPE_BF16=emulate runs the slow portable emulation instead (docs/precision.md)."))
    var precision = Precision.fp32

    func validate() throws {
        if optimizer == .muon {
            throw ValidationError("--optimizer must be sgd, adam or adamw, not 'muon' (Muon comes with --recipe airbench)")
        }
        guard LearningRateSchedule(schedule) != nil else {
            throw ValidationError("--schedule must be onecycle[:WARMUP], cosine, step[:EPOCHS:GAMMA] or constant, not '\(schedule)'")
        }
        if let initializer, Initializer(parsing: initializer) == nil {
            throw ValidationError("--initializer must be he, xavier, torch or normal[:STD], not '\(initializer)'")
        }
        do {
            try config.validate()
        } catch {
            // A precision this machine cannot run is the machine's limit, like memory (exit 1), not a usage error.
            if error.setting == .precision { throw RuntimeError(Self.wording(error)) }
            throw ValidationError(Self.wording(error))
        }
        try requireMemory(modelName, for: .training(batch: config.batchSize, optimizer: config.optimizer.update.kind))
    }

    /// A config error worded with the option that sets the setting at fault.
    static func wording(_ error: TrainingConfigError) -> String {
        let option: String
        switch error.setting {
        case .model: return "--model: \(error.problem.replacingOccurrences(of: "does not build: ", with: ""))"
        case .epochs: option = "--epochs"
        case .batchSize: option = "--batch"
        case .learningRate: option = "--lr"
        case .momentum: option = "--momentum"
        case .weightDecay: option = "--weight-decay"
        case .labelSmoothing: option = "--label-smoothing"
        case .rotation: option = "--rotate"
        case .colorJitter: option = "--color-jitter"
        case .trainLimit: option = "--train-limit"
        case .precision: option = "--precision"
        case .cropPadding, .whiteningBiasEpochs, .parameterGroups, .batchNormMomentum, .classifierStd, .format:
            return "the training config's \(error)"
        }
        return "\(option) \(error.problem)"
    }

    /// The model to train: `--model`, or the recipe's default.
    var modelName: String { config.model }

    /// The run these options describe: the recipe's configuration with the options it leaves open; the
    /// standard recipe takes every option.
    var config: TrainingConfig {
        var config = recipe.configuration(
            model: model, epochs: epochs, batchSize: batchSize, learningRate: lr, seed: seed, optimizer: optimizer)
        config.trainLimit = trainLimit
        config.precision = precision
        if let initializer { config.initialization.initializer = Initializer(parsing: initializer) }
        guard recipe == .standard else { return config }
        config.schedule.learningRate = LearningRateSchedule(schedule) ?? .standardOneCycle
        (config.optimizer.update.momentum, config.optimizer.update.nesterov) = (momentum, nesterov)
        config.optimizer.update.weightDecay = weightDecay
        config.loss.labelSmoothing = labelSmoothing
        // A negative --rotate or --color-jitter switches the part on, for `validate` to refuse.
        config.augmentation = Augmentation(
            crop: crop, horizontalFlip: flip, rotation: rotate != 0, maxRotationDegrees: rotate != 0 ? rotate : 15,
            colorJitter: colorJitter != 0, brightness: colorJitter, contrast: colorJitter, saturation: colorJitter)
        return config
    }
}

/// Refuses a `--model` that does not build, as a usage error pointing at the bad token. Builds nothing:
/// a spec can ask for more memory than the machine has (`requireMemory` checks that).
func validateModel(_ model: String) throws {
    do {
        _ = try ModelPlan(spec: try ModelSpec(model))
    } catch {
        throw ValidationError("--model: \(error)")
    }
}

/// Refuses (a runtime failure, exit 1) a valid `--model` whose `use` would need more memory than the
/// machine has, naming the layer with the largest share; `subject` is how the message names the model.
func requireMemory(_ model: String, for use: MemoryEstimate.Use, subject: String = "--model") throws {
    do {
        try MemoryEstimate(spec: try ModelSpec(model)).require(use)
    } catch let error as MemoryLimitError {
        throw RuntimeError(MemoryText.refusal(error, subject: subject))
    }
}

/// Refuses (exit 1) a run that, with its images and weight history besides its steps, would need more memory than
/// the machine has: `validate` checked the model and batch alone before the data set was read.
func requireMemory(_ trainer: Trainer) throws {
    do {
        try MemoryEstimate(spec: trainer.network.spec).require(
            .training(batch: trainer.config.batchSize, optimizer: trainer.config.optimizer.update.kind), run: trainer.memoryRun)
    } catch let error as MemoryLimitError {
        throw RuntimeError(MemoryText.refusal(error))
    }
}

/// Refuses a loaded model whose `use` would need more memory than the machine has (a checkpoint's model
/// fits one image when it loads; commands running larger batches check those too).
func requireMemory(_ network: Network, for use: MemoryEstimate.Use, checkpoint: String) throws {
    do {
        try MemoryEstimate(spec: network.spec).require(use, source: checkpoint)
    } catch let error as MemoryLimitError {
        throw RuntimeError(MemoryText.refusal(error))
    }
}
