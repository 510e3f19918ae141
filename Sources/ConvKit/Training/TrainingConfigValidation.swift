/// A training config that cannot run, naming the setting and what was expected; front ends word the
/// setting their own way (the command line as its option, `--epochs`).
public struct TrainingConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The setting at fault, named by what it is rather than where it came from.
    public enum Setting: String, Sendable {
        case model, epochs, batchSize = "batch size", learningRate = "learning rate", momentum, weightDecay = "weight decay"
        case labelSmoothing = "label smoothing", rotation, colorJitter = "colour jitter", cropPadding = "crop padding"
        case trainLimit = "training subset", whiteningBiasEpochs = "whitening bias epochs", parameterGroups = "parameter groups"
        case batchNormMomentum = "batch-norm momentum", classifierStd = "classifier init std"
        case precision
        /// The config as a whole (a checkpoint's text that does not read).
        case format = "training config"
    }

    public let setting: Setting
    /// What is wrong, worded to follow the setting's name: "must be at least 1, not 0".
    public let problem: String

    public init(setting: Setting, problem: String) {
        self.setting = setting
        self.problem = problem
    }

    public var description: String { "\(setting.rawValue) \(problem)" }
}

extension TrainingConfig {
    /// The largest epoch count and batch a config may name (a checkpoint's text is untrusted).
    static let countLimit = 1_000_000

    /// Refuses a config that cannot run, naming the first setting at fault. `checkingModel` also builds
    /// the model's plan (no weights) to refuse a spec that does not build; `checkingMachine` refuses a
    /// precision this machine cannot run (reading a checkpoint's config skips that: it may be evaluated
    /// elsewhere; training it checks again).
    public func validate(checkingModel: Bool = true, checkingMachine: Bool = true) throws(TrainingConfigError) {
        func fail(_ setting: TrainingConfigError.Setting, _ problem: String) -> TrainingConfigError {
            TrainingConfigError(setting: setting, problem: problem)
        }
        func finite(_ value: Float?, _ setting: TrainingConfigError.Setting, positive: Bool = false) throws(TrainingConfigError) {
            guard let value else { return }
            if !value.isFinite || (positive && !(value > 0)) {
                throw fail(setting, "must be \(positive ? "positive" : "finite"), not \(value)")
            }
        }
        if checkingModel {
            do {
                _ = try ModelPlan(spec: try ModelSpec(model))
            } catch {
                throw fail(.model, "does not build: \(error)")
            }
        }
        guard (1...Self.countLimit).contains(epochs) else { throw fail(.epochs, "must be at least 1, not \(epochs)") }
        guard (1...Self.countLimit).contains(batchSize) else { throw fail(.batchSize, "must be at least 1, not \(batchSize)") }
        if let trainLimit, trainLimit < 1 { throw fail(.trainLimit, "must be at least 1, not \(trainLimit)") }
        try finite(learningRate, .learningRate, positive: true)
        let update = optimizer.update
        for value in [update.momentum, update.beta1, update.beta2, update.epsilon, update.filterMomentum] {
            try finite(value, .momentum)
        }
        try finite(update.weightDecay, .weightDecay)
        try finite(optimizer.groups.batchNormBiasRateScale, .parameterGroups, positive: true)
        try finite(optimizer.groups.classifierRateScale, .parameterGroups, positive: true)
        guard (0..<1).contains(loss.labelSmoothing) else {
            throw fail(.labelSmoothing, "must be in [0, 1), not \(loss.labelSmoothing)")
        }
        guard (0...32).contains(augmentation.cropPadding) else {
            throw fail(.cropPadding, "must be between 0 and 32 pixels, not \(augmentation.cropPadding)")
        }
        if augmentation.rotation, !(0...180).contains(augmentation.maxRotationDegrees) {
            throw fail(.rotation, "must be between 0 and 180 degrees, not \(augmentation.maxRotationDegrees)")
        }
        if augmentation.colorJitter {
            for strength in [augmentation.brightness, augmentation.contrast, augmentation.saturation] where !(0..<1).contains(strength) {
                throw fail(.colorJitter, "must be in [0, 1), not \(strength)")
            }
        }
        guard (0...Self.countLimit).contains(schedule.whiteningBiasEpochs) else {
            throw fail(.whiteningBiasEpochs, "must be between 0 and the run's epochs, not \(schedule.whiteningBiasEpochs)")
        }
        if let momentum = speedRun.batchNormMomentum, !(momentum > 0 && momentum <= 1) {
            throw fail(.batchNormMomentum, "must be in (0, 1], not \(momentum)")
        }
        try finite(initialization.classifierStd, .classifierStd, positive: true)
        if checkingMachine, case .failure(let problem) = precision.arithmetic {
            throw fail(.precision, "\(precision) \(problem)")
        }
    }
}
