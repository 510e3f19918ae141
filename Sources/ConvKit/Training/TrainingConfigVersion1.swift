import Foundation

/// Version 1 of the checkpoint's training config: one flat JSON object with snake_case keys, written by
/// hand before the config became `Codable` (`TrainingConfig.formatVersion` 2). Kept so that every
/// checkpoint written before still loads and resumes; nothing writes it any more.
extension TrainingConfig {
    /// Reads the flat JSON object of a version-1 config (checkpoints written before 2026-12-03) for a
    /// run of `model`; nil when a value is absent where required or is not a number its field holds.
    init?(version1 object: [String: Any], model: String) {
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
        speedRun.whitening = object["whitening"] as? Bool ?? false
        optimizer.lookahead = object["lookahead"] as? Bool ?? false
        evaluation.testTimeAugmentation = (object["test_time_augmentation"] as? String).flatMap(TestTimeAugmentation.init(rawValue:))
            ?? (object["test_time_flip"] as? Bool == true ? .flip : .none)
        optimizer.groups.batchNormBiasRateScale = number("bn_bias_rate_scale").map(Float.init)
        speedRun.batchNormMomentum = number("bn_momentum").map(Float.init)
        initialization.identity = object["identity_init"] as? Bool ?? false
        optimizer.groups.classifierRateScale = number("classifier_rate_scale").map(Float.init)
        augmentation.alternatingFlip = object["alternating_flip"] as? Bool ?? false
        initialization.classifierStd = number("classifier_init_std").map(Float.init)
        self.schedule.whiteningBiasEpochs = biasEpochs ?? 0
        if unreadable { return nil }
    }
}

