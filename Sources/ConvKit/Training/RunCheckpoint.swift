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

    /// Saves the trainer's network, optimiser state, config and history to `path`, atomically; with
    /// `keepingWeightHistory`, its weight snapshots beside it (`WeightHistoryFile`, also atomically, after the checkpoint).
    public static func save(
        _ trainer: Trainer, to path: String, extraMetadata: [String: String] = [:], keepingWeightHistory: Bool = true
    ) throws {
        var metadata = extraMetadata
        metadata[epochKey] = String(trainer.completedEpochs)
        metadata[stepKey] = String(trainer.globalStep)
        metadata[datasetKey] = trainer.dataset.displayName
        metadata[classesKey] = json(trainer.dataset.classNames)
        metadata[configKey] = try trainer.config.jsonText()
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
        guard keepingWeightHistory, !trainer.weightHistory.isEmpty else { return }
        do {
            try WeightHistoryFile.save(trainer.weightHistory, network: trainer.network, besideCheckpoint: path)
        } catch {
            throw RunCheckpointError(path: path, problem: "was saved, but its weight history was not: \(error)")
        }
    }

    /// Loads the weight history beside the checkpoint at `path` into `trainer` (keeping the trainer's cadence and
    /// budget, and only the snapshots up to its step); a history that does not serve the run is set aside in
    /// `trainer.weightHistoryProblem` (the error, one line), never thrown: it is a view of the run, not the run.
    public static func loadWeightHistory(besideCheckpoint path: String, into trainer: Trainer) {
        do {
            guard
                let history = try weightHistory(
                    besideCheckpoint: path, network: trainer.network, cadence: trainer.weightHistory.cadence, upToStep: trainer.globalStep)
            else { return }
            trainer.weightHistory = history
        } catch {
            trainer.weightHistoryProblem = "\(error)"
        }
    }

    /// The weight history beside the checkpoint at `path`, for a run of `network`'s spec, held to `cadence`'s budget,
    /// with only the snapshots up to `step` (the checkpoint's: a history rewritten after it is ahead of it); nil when
    /// there is no such file. Throws `WeightHistoryFileError` when there is one that does not serve the run.
    /// What explore mode, `train --resume` and `convscope watch` all open.
    public static func weightHistory(
        besideCheckpoint path: String, network: Network, cadence: SnapshotCadence, upToStep step: Int
    ) throws -> WeightHistory? {
        let file = WeightHistoryFile.path(besideCheckpoint: path)
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        var history = try WeightHistoryFile.load(file, network: network, cadence: cadence)
        history.dropSnapshots(after: step)
        return history
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
        var file = StateDict.safeTensors(from: network.stateTensors + extraState, metadata: metadata)
        file.tensors += extraEntries
        for parameter in network.parameters {
            guard let mask = parameter.mask else { continue }
            let bytes = (0..<parameter.count).map { mask.base[parameter.layout.internalIndex(ofTorchIndex: $0)] != 0 ? UInt8(1) : 0 }
            file.tensors.append(
                SafeTensors.Entry(name: StateDict.maskPrefix + parameter.name, shape: parameter.layout.torchShape, uint8s: bytes))
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
        /// The class names stored with the model (`RunCheckpoint.classNames(in:count:)`), or CIFAR-10's.
        public var classNames: [String] {
            RunCheckpoint.classNames(in: metadata, count: network.classCount) ?? DataSource.cifar10(directory: "").classNames
        }

        /// The optimiser state a pruned copy of this run keeps, so that `train --resume` fine-tunes it
        /// within the run's schedule: all of it when pruning kept every shape (magnitude pruning masks
        /// weights), only the step count when shapes changed (filter pruning; momentum starts again from
        /// zero).
        public func optimizerState(forPrunedShapes shapesChanged: Bool) -> [SafeTensors.Entry] {
            file.tensors.filter { entry in
                shapesChanged ? entry.name == StateDict.optimizerPrefix + "step" : entry.name.hasPrefix(StateDict.optimizerPrefix)
            }
        }

        /// The health timeline recorded so far, when the checkpoint has one that reads.
        public var health: HealthHistory? { metadata[HealthHistory.metadataKey].flatMap(HealthHistory.init(metadataValue:)) }
        /// The config the run was started with.
        public func config() throws -> TrainingConfig {
            do {
                return try RunCheckpoint.readConfig(in: metadata, model: network.spec.text)
            } catch {
                throw RunCheckpointError(path: path, problem: "has no readable training config in its metadata (\(error)); it cannot be resumed")
            }
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
        try StateDict.load(file, into: network.stateTensors, source: path)
        try StateDict.requireFinite(file, for: network.stateTensors, source: path)
        for parameter in network.parameters {
            guard let entry = file[StateDict.maskPrefix + parameter.name] else { continue }
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
        try config.validate(checkingModel: false)  // a bf16 run resumes only where bf16 runs
        try MemoryEstimate(plan: ModelPlan(spec: loaded.network.spec)).require(
            .training(batch: config.batchSize, optimizer: config.optimizer.update.kind), source: path)
        let trainer = Trainer(config: config, dataset: dataset, network: loaded.network, history: loaded.history)
        // Optimiser and look-ahead state that is present and fits is restored; anything else starts
        // fresh (a pruned model's new shapes, or a checkpoint written without that state).
        for state in trainer.resumableState {
            guard let entry = loaded.file[state.name], entry.shape == state.torchShape else { continue }
            try StateDict.requireFinite(entry, source: path)
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
        loadWeightHistory(besideCheckpoint: path, into: trainer)
        return trainer
    }

    /// `object` as JSON for the metadata; non-finite numbers become `null` (`FiniteJSON`).
    static func json(_ object: Any) -> String {
        (try? FiniteJSON.string(object)) ?? "null"
    }

    /// The training config recorded in a checkpoint's `metadata` for a run of `model` (the spec string), if
    /// it has a readable one.
    public static func config(in metadata: [String: String], model: String) -> TrainingConfig? {
        try? readConfig(in: metadata, model: model)
    }

    /// `config(in:model:)`, throwing what is wrong. A config of the current format version reads through
    /// `Codable`; one without a version is a version-1 config (the flat object of earlier checkpoints).
    /// Either way the run's model is `model`, the spec the checkpoint's tensors were saved for (a pruned
    /// model's differs from the one its run started with).
    static func readConfig(in metadata: [String: String], model: String) throws(TrainingConfigError) -> TrainingConfig {
        guard let text = metadata[configKey], let object = parse(text) as? [String: Any] else {
            throw TrainingConfigError(setting: .format, problem: "is missing or not a JSON object")
        }
        var config: TrainingConfig
        if object["version"] != nil {
            config = try TrainingConfig(jsonText: text)
        } else {
            guard let old = TrainingConfig(version1: object, model: model) else {
                throw TrainingConfigError(setting: .format, problem: "(format version 1) has a value missing or out of range")
            }
            try old.validate(checkingModel: false)
            config = old
        }
        config.model = model
        return config
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

