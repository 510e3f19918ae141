import Foundation

/// A training run saved as a `.safetensors` checkpoint: the model's tensors under PyTorch's names,
/// the optimiser's state under `optimizer.`, and in the header metadata the spec, the epoch, the
/// training config and the per-epoch metrics (JSON strings).
///
/// PyTorch loads the model part with `load_state_dict` after dropping the `optimizer.*` tensors;
/// `../shared/bench/specnet.py` builds the matching module from the `spec` metadata.
public enum RunCheckpoint {
    /// Metadata keys.
    public static let formatKey = "format", formatValue = "convscope"
    public static let specKey = "spec", epochKey = "epoch", stepKey = "step", datasetKey = "dataset"
    public static let configKey = "config", metricsKey = "metrics", classesKey = "classes"
    /// Where in its epoch a run was saved (JSON of `Trainer.EpochProgress`), when not at the end of one.
    public static let progressKey = "epoch_progress"

    /// Saves the trainer's network, optimiser state, config and history to `path`, atomically.
    public static func save(_ trainer: Trainer, to path: String, extraMetadata: [String: String] = [:]) throws {
        var metadata = extraMetadata
        metadata[epochKey] = String(trainer.completedEpochs)
        metadata[stepKey] = String(trainer.globalStep)
        metadata[datasetKey] = trainer.dataset.displayName
        metadata[classesKey] = json(trainer.dataset.classNames)
        metadata[configKey] = json(trainer.config.jsonObject)
        metadata[metricsKey] = json(trainer.history.epochs.map(\.jsonObject))
        if !trainer.health.history.isEmpty { metadata[HealthHistory.metadataKey] = trainer.health.history.metadataValue }
        let progress = trainer.epochProgress
        if progress.step > 0 {
            metadata[progressKey] = json([
                "step": progress.step, "loss_sum": progress.lossSum, "correct": progress.correct, "seen": progress.seen,
                "seconds": progress.seconds,
            ])
        }
        try save(network: trainer.network, extraState: trainer.resumableState, metadata: metadata, to: path)
    }

    /// Saves a network (with its pruning masks) and any extra state or raw entries, atomically. Refuses
    /// (leaving any file at `path` as it was) when a weight, statistic or optimiser value is not finite.
    public static func save(
        network: Network, extraState: [StateTensor] = [], extraEntries: [SafeTensors.Entry] = [],
        metadata: [String: String], to path: String
    ) throws {
        if let bad = FiniteCheck.firstNonFinite(in: network.stateTensors + extraState) {
            let text = bad.value.isNaN ? "NaN" : (bad.value > 0 ? "inf" : "-inf")
            throw CheckpointError(
                source: path, tensor: bad.tensor, kind: .nonFinite, problem: "holds \(text): not saved, so the file keeps what it had")
        }
        try safeTensors(network: network, extraState: extraState, extraEntries: extraEntries, metadata: metadata).write(to: path)
    }

    /// The checkpoint `save(network:...)` writes, in memory.
    public static func safeTensors(
        network: Network, extraState: [StateTensor] = [], extraEntries: [SafeTensors.Entry] = [], metadata: [String: String]
    ) -> SafeTensors {
        var metadata = metadata
        metadata[formatKey] = formatValue
        metadata[specKey] = network.spec.text
        var file = Checkpoint.safeTensors(from: network.stateTensors + extraState, metadata: metadata)
        file.tensors += extraEntries
        for parameter in network.parameters {
            guard let mask = parameter.mask else { continue }
            let bytes = (0..<parameter.count).map { mask.base[parameter.layout.internalIndex(ofTorchIndex: $0)] != 0 ? UInt8(1) : 0 }
            file.tensors.append(
                SafeTensors.Entry(name: Checkpoint.maskPrefix + parameter.name, shape: parameter.layout.torchShape, uint8s: bytes))
        }
        return file
    }

    /// A model read back from a checkpoint.
    public struct Loaded {
        public let network: Network
        public let metadata: [String: String]
        public let file: SafeTensors
        public let path: String

        /// Epochs the model was trained for.
        public var epoch: Int { Int(metadata[epochKey] ?? "") ?? 0 }
        /// The dataset it was trained on (`CIFAR-10`, `SYNTHETIC`), if recorded.
        public var datasetName: String? { metadata[datasetKey] }
        /// The per-epoch metrics recorded so far.
        public var history: TrainingHistory { RunCheckpoint.history(in: metadata) }
        /// The health timeline recorded so far, when the checkpoint has one that reads.
        public var health: HealthHistory? { metadata[HealthHistory.metadataKey].flatMap(HealthHistory.init(metadataValue:)) }
        /// The config the run was started with.
        public func config() throws -> TrainingConfig {
            guard let config = RunCheckpoint.config(in: metadata, model: network.spec.text) else {
                throw RunCheckpointError(path: path, problem: "has no readable training config in its metadata; it cannot be resumed")
            }
            return config
        }
    }

    /// Reads a checkpoint and builds its network with the stored weights and statistics; throws a
    /// `MemoryLimitError` (before allocating the weights) when the model cannot run one image here, and a
    /// `CheckpointError` naming the tensor when a weight or statistic is NaN or infinite.
    public static func load(_ path: String) throws -> Loaded {
        try load(SafeTensors(contentsOf: path), path: path)
    }

    /// Builds the network of a checkpoint already read; `path` names it in errors.
    public static func load(_ file: SafeTensors, path: String) throws -> Loaded {
        guard let specText = file.metadata[specKey] else {
            throw RunCheckpointError(
                path: path,
                problem: "has no ConvScope model spec in its metadata ('\(specKey)'): it was not written by convscope")
        }
        let plan: ModelPlan
        do {
            plan = try ModelPlan(spec: try ModelSpec(specText))
        } catch {
            throw RunCheckpointError(path: path, problem: "holds a model spec that does not build: \(error)")
        }
        // Sized before its weights are allocated: a spec can ask for more memory than the machine has.
        try MemoryEstimate(plan: plan).require(.inference(batch: 1), source: path)
        let network = Network(plan: plan)
        try Checkpoint.load(file, into: network.stateTensors, source: path)
        try Checkpoint.requireFinite(file, for: network.stateTensors, source: path)
        for parameter in network.parameters {
            guard let entry = file[Checkpoint.maskPrefix + parameter.name] else { continue }
            guard let bytes = entry.uint8s, entry.shape == parameter.layout.torchShape else {
                throw RunCheckpointError(path: path, problem: "has a pruning mask for \(parameter.name) of the wrong shape or type")
            }
            let mask = FloatBuffer(capacity: parameter.count)
            parameter.layout.fromTorch(bytes.map { $0 != 0 ? 1 : 0 }, into: mask.prefix(parameter.count))
            parameter.mask = mask
        }
        return Loaded(network: network, metadata: file.metadata, file: file, path: path)
    }

    /// Rebuilds a trainer from a checkpoint to continue its run, optionally for more epochs; throws a
    /// `MemoryLimitError` when training at the run's batch size would not fit in memory.
    public static func resume(_ path: String, dataset: Dataset, epochs: Int? = nil) throws -> Trainer {
        let loaded = try load(path)
        if let recorded = loaded.datasetName, recorded != dataset.displayName {
            throw RunCheckpointError(path: path, problem: "was trained on \(recorded), not \(dataset.displayName)")
        }
        var config = try loaded.config()
        if let epochs { config.epochs = epochs }
        try MemoryEstimate(plan: ModelPlan(spec: loaded.network.spec)).require(
            .training(batch: config.batchSize, optimizer: config.optimizer.kind), source: path)
        let trainer = Trainer(config: config, dataset: dataset, network: loaded.network, history: loaded.history)
        // Optimiser and look-ahead state that is present and fits is restored; anything else starts
        // fresh (a pruned model's new shapes, or a checkpoint written without that state).
        for state in trainer.resumableState {
            guard let entry = loaded.file[state.name], entry.shape == state.torchShape else { continue }
            try Checkpoint.requireFinite(entry, source: path)
            switch state.content {
            case let .float(buffer, layout):
                if let values = entry.floats { layout.fromTorch(values, into: buffer.prefix(layout.count)) }
            case .int64(let counter):
                if let value = entry.int64s?.first { counter.value = value }
            }
        }
        if let progress = epochProgress(in: loaded.metadata, stepsPerEpoch: trainer.stepsPerEpoch) {
            trainer.epochProgress = progress
        }
        if let health = loaded.health { trainer.health.restore(health) }
        return trainer
    }

    /// `object` as JSON for the metadata; non-finite numbers become `null` (`FiniteJSON`).
    static func json(_ object: Any) -> String {
        (try? FiniteJSON.string(object)) ?? "null"
    }

    /// The training config recorded in a checkpoint's `metadata` for a run of `model` (the spec string), if
    /// it has a readable one.
    public static func config(in metadata: [String: String], model: String) -> TrainingConfig? {
        guard let text = metadata[configKey], let object = parse(text) as? [String: Any] else { return nil }
        return TrainingConfig(jsonObject: object, model: model)
    }

    /// Whether the run recorded in a checkpoint's `metadata` padded its crops by mirroring the image
    /// (`Augmentation.reflectPadding`), so that shifted test-time views should too.
    public static func reflectsBorders(_ metadata: [String: String]) -> Bool {
        config(in: metadata, model: metadata[specKey] ?? "")?.augmentation.reflectPadding ?? false
    }

    /// Metadata JSON as Foundation objects, read by our strict parser (numbers correctly rounded, nesting
    /// bounded), or nil when it is not JSON.
    static func parse(_ text: String) -> Any? {
        JSONValue.foundationObject(parsing: text)
    }

    /// The per-epoch metrics recorded in a checkpoint's `metadata` (records that do not read are left out).
    public static func history(in metadata: [String: String]) -> TrainingHistory {
        var history = TrainingHistory()
        if let text = metadata[metricsKey], let rows = parse(text) as? [[String: Any]] {
            history.epochs = rows.compactMap(TrainingHistory.Epoch.init(jsonObject:))
        }
        return history
    }

    /// Where in its epoch the run recorded in `metadata` was saved, when it was saved mid-epoch and the
    /// record reads: a step inside an epoch of `stepsPerEpoch` steps, and whole, non-negative counts.
    static func epochProgress(in metadata: [String: String], stepsPerEpoch: Int) -> Trainer.EpochProgress? {
        guard let text = metadata[progressKey], let object = parse(text) as? [String: Any] else { return nil }
        func number(_ key: String) -> Double? { (object[key] as? NSNumber)?.doubleValue }
        func count(_ key: String) -> Int? { number(key).flatMap { Int(exactly: $0) }.flatMap { $0 >= 0 ? $0 : nil } }
        guard let step = count("step"), step > 0, step < stepsPerEpoch, let correct = count("correct"), let seen = count("seen")
        else { return nil }
        return Trainer.EpochProgress(
            step: step, lossSum: number("loss_sum") ?? 0, correct: correct, seen: seen, seconds: number("seconds") ?? 0)
    }

    /// The class names recorded in `metadata`, when there are `count` of them, each a short line of text
    /// (1 to 64 characters, no control characters) fit to print in a terminal.
    public static func classNames(in metadata: [String: String], count: Int) -> [String]? {
        guard let text = metadata[classesKey], let names = parse(text) as? [String], names.count == count,
            names.allSatisfy({ name in
                (1...64).contains(name.count) && !name.unicodeScalars.contains { $0.properties.generalCategory == .control }
            })
        else { return nil }
        return names
    }
}

/// A checkpoint that is not a ConvScope run, or cannot continue this one.
public struct RunCheckpointError: Error, CustomStringConvertible {
    public let path: String
    public let problem: String
    public var description: String { "checkpoint '\(path)' \(problem)" }
}

extension TrainingHistory.Epoch {
    /// The record as a JSON object (one line of the metrics log).
    public var jsonObject: [String: Any] {
        [
            "epoch": epoch, "train_loss": Double(trainLoss), "train_acc": Double(trainAccuracy), "test_loss": Double(testLoss),
            "test_acc": Double(testAccuracy), "lr": Double(learningRate), "seconds": seconds, "elapsed_s": elapsedSeconds,
            "images_per_s": imagesPerSecond,
        ]
    }

    init?(jsonObject object: [String: Any]) {
        func number(_ key: String) -> Double? { FiniteJSON.number(object[key]) }
        guard let epoch = number("epoch"), epoch.isFinite, let trainLoss = number("train_loss"), let trainAccuracy = number("train_acc"),
            let testLoss = number("test_loss"), let testAccuracy = number("test_acc")
        else { return nil }
        guard let epochNumber = Int(exactly: epoch) else { return nil }
        self.init(
            epoch: epochNumber, trainLoss: Float(trainLoss), trainAccuracy: Float(trainAccuracy), testLoss: Float(testLoss),
            testAccuracy: Float(testAccuracy), learningRate: Float(number("lr") ?? 0), seconds: number("seconds") ?? 0,
            elapsedSeconds: number("elapsed_s") ?? 0, imagesPerSecond: number("images_per_s") ?? 0)
    }
}

extension TrainingConfig {
    /// The config as a JSON object (checkpoint metadata).
    public var jsonObject: [String: Any] {
        var object: [String: Any] = [
            "model": model, "epochs": epochs, "batch": batchSize, "lr": Double(learningRate), "schedule": schedule.description,
            "optimizer": optimizer.kind.rawValue, "momentum": Double(optimizer.momentum), "nesterov": optimizer.nesterov,
            "weight_decay": Double(optimizer.weightDecay), "label_smoothing": Double(labelSmoothing),
            "crop": augmentation.crop, "flip": augmentation.horizontalFlip,
            "rotation": augmentation.rotation ? Double(augmentation.maxRotationDegrees) : 0,
            "color_jitter": augmentation.colorJitter ? Double(augmentation.brightness) : 0,
            "seed": seed, "crop_padding": augmentation.cropPadding, "whitening": whitening, "lookahead": lookahead,
            "test_time_augmentation": testTimeAugmentation.rawValue,
        ]
        if let initializer { object["init"] = initializer.description }
        if let batchNormBiasRateScale { object["bn_bias_rate_scale"] = Double(batchNormBiasRateScale) }
        if let batchNormMomentum { object["bn_momentum"] = Double(batchNormMomentum) }
        if identityInit { object["identity_init"] = true }
        if let classifierRateScale { object["classifier_rate_scale"] = Double(classifierRateScale) }
        if alternatingFlip { object["alternating_flip"] = true }
        if let classifierInitStd { object["classifier_init_std"] = Double(classifierInitStd) }
        if whiteningBiasEpochs > 0 { object["whitening_bias_epochs"] = whiteningBiasEpochs }
        if augmentation.reflectPadding { object["crop_reflect"] = true }
        if optimizer.kind == .muon { object["filter_momentum"] = Double(optimizer.filterMomentum) }
        if let trainLimit { object["train_limit"] = trainLimit }
        return object
    }

    init?(jsonObject object: [String: Any], model: String) {
        // A number a Float holds, or nil when absent; a value present but not such a number (a string, null,
        // 1e39) makes the whole config unreadable rather than train on infinity or fall back to a default.
        var unreadable = false
        func number(_ key: String) -> Double? {
            guard let value = object[key] else { return nil }
            guard let number = (value as? NSNumber)?.doubleValue, abs(number) <= Double(Float.greatestFiniteMagnitude) else {
                unreadable = true
                return nil
            }
            return number
        }
        // A whole number in `range`, or nil when absent; otherwise unreadable, as above.
        func integer(_ key: String, _ range: ClosedRange<Int>) -> Int? {
            guard object[key] != nil else { return nil }
            guard let value = number(key).flatMap({ Int(exactly: $0) }), range.contains(value) else {
                unreadable = true
                return nil
            }
            return value
        }
        guard let epochs = integer("epochs", 0...1_000_000), let batch = integer("batch", 1...1_000_000), let lr = number("lr"),
            let scheduleText = object["schedule"] as? String, let schedule = LearningRateSchedule(scheduleText),
            let kindText = object["optimizer"] as? String, let kind = Optimizer.Kind(rawValue: kindText)
        else { return nil }
        // Seeds use all 64 bits: read the integer's digits, not the Double Foundation also offers.
        let seed = (object["seed"] as? NSNumber).map { UInt64($0.stringValue) ?? UInt64(exactly: $0.doubleValue) } ?? 0
        let trainLimit = integer("train_limit", 1...Int.max), cropPadding = integer("crop_padding", 0...32)
        let biasEpochs = integer("whitening_bias_epochs", 0...1_000_000)
        guard let seed else { return nil }
        let rotation = number("rotation") ?? 0, jitter = number("color_jitter") ?? 0
        self.init(
            model: model, epochs: epochs, batchSize: batch, learningRate: Float(lr), schedule: schedule,
            optimizer: Optimizer.Settings(
                kind: kind, momentum: Float(number("momentum") ?? 0.9), nesterov: object["nesterov"] as? Bool ?? true,
                weightDecay: Float(number("weight_decay") ?? 0), filterMomentum: Float(number("filter_momentum") ?? 0.6)),
            labelSmoothing: Float(number("label_smoothing") ?? 0),
            augmentation: Augmentation(
                crop: object["crop"] as? Bool ?? false, horizontalFlip: object["flip"] as? Bool ?? false,
                rotation: rotation > 0, maxRotationDegrees: rotation > 0 ? Float(rotation) : 15,
                colorJitter: jitter > 0, brightness: Float(jitter > 0 ? jitter : 0.2), contrast: Float(jitter > 0 ? jitter : 0.2),
                saturation: Float(jitter > 0 ? jitter : 0.2)),
            initializer: (object["init"] as? String).flatMap(Initializer.init(parsing:)),
            seed: seed, trainLimit: trainLimit)
        augmentation.cropPadding = cropPadding ?? 4
        augmentation.reflectPadding = object["crop_reflect"] as? Bool ?? false
        whitening = object["whitening"] as? Bool ?? false
        lookahead = object["lookahead"] as? Bool ?? false
        testTimeAugmentation = (object["test_time_augmentation"] as? String).flatMap(TestTimeAugmentation.init(rawValue:))
            ?? (object["test_time_flip"] as? Bool == true ? .flip : .none)
        batchNormBiasRateScale = number("bn_bias_rate_scale").map(Float.init)
        batchNormMomentum = number("bn_momentum").map(Float.init)
        identityInit = object["identity_init"] as? Bool ?? false
        classifierRateScale = number("classifier_rate_scale").map(Float.init)
        alternatingFlip = object["alternating_flip"] as? Bool ?? false
        classifierInitStd = number("classifier_init_std").map(Float.init)
        whiteningBiasEpochs = biasEpochs ?? 0
        if unreadable { return nil }
    }
}

extension Initializer {
    /// Parses `he`, `xavier`, `torch`, `normal` (std 0.01) or `normal(0.05)` / `normal:0.05`.
    public init?(parsing text: String) {
        let lower = text.lowercased()
        switch lower {
        case "he", "kaiming": self = .he
        case "xavier", "glorot": self = .xavier
        case "torch", "pytorch": self = .torch
        case "normal": self = .normal(std: 0.01)
        default:
            // `description` writes large and small values as `normal(1e+30)`, `normal(1e-05)`.
            let digits = lower.drop { !$0.isNumber && $0 != "." && $0 != "-" }.prefix { $0.isNumber || ".e-+".contains($0) }
            guard lower.hasPrefix("normal"), let std = Float(String(digits)), std > 0, std.isFinite else { return nil }
            self = .normal(std: std)
        }
    }
}
