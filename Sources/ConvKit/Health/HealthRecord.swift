/// One layer's health at one recorded step: the distributions of its weights, of their gradients and
/// of its activations on the probe batch, and the scalars the alarms watch.
public struct LayerHealth: Sendable, Equatable {
    /// Euclidean norms of the layer's weight tensor and of its gradient (the gradient before the update).
    public var weightNorm: Float
    public var gradientNorm: Float
    /// `|w_after - w_before| / |w_before|` for this step's update of the weight tensor (the rule of thumb
    /// is about 1e-3); 0 for a frozen layer.
    public var updateRatio: Float
    /// Share of the activation units (channel and position) that are zero for every probe image.
    public var deadShare: Float
    /// Share of the channels (filters) whose whole map is zero for every probe image.
    public var zeroFilterShare: Float
    public var weights: HealthHistogram
    public var gradients: HealthHistogram
    public var activations: HealthHistogram

    public init(
        weightNorm: Float, gradientNorm: Float, updateRatio: Float, deadShare: Float, zeroFilterShare: Float,
        weights: HealthHistogram, gradients: HealthHistogram, activations: HealthHistogram
    ) {
        self.weightNorm = weightNorm
        self.gradientNorm = gradientNorm
        self.updateRatio = updateRatio
        self.deadShare = deadShare
        self.zeroFilterShare = zeroFilterShare
        self.weights = weights
        self.gradients = gradients
        self.activations = activations
    }

    /// The histogram of `quantity`.
    public func histogram(_ quantity: HealthQuantity) -> HealthHistogram {
        switch quantity {
        case .weights: return weights
        case .gradients: return gradients
        case .activations: return activations
        }
    }
}

/// Which distribution of a layer.
public enum HealthQuantity: String, Sendable, CaseIterable {
    case weights, gradients, activations
}

/// Everything recorded at one step.
public struct HealthRecord: Sendable, Equatable {
    /// The global step the record follows (1 after the first update).
    public var step: Int
    public var loss: Float
    public var learningRate: Float
    /// The norm of every parameter's gradient together.
    public var gradientNorm: Float
    /// One entry per tracked layer, in `HealthHistory.layers` order.
    public var layers: [LayerHealth]

    public init(step: Int, loss: Float, learningRate: Float, gradientNorm: Float, layers: [LayerHealth]) {
        self.step = step
        self.loss = loss
        self.learningRate = learningRate
        self.gradientNorm = gradientNorm
        self.layers = layers
    }
}

/// The health timeline of a run: the tracked layers, the records so far (thinned to at most `capacity`),
/// the alarms now standing and the log of alarms raised. A value: the trainer's recorder owns the
/// current one, snapshots and checkpoints carry copies.
public struct HealthHistory: Sendable, Equatable {
    /// The weight layers tracked (convolutions and fully connected layers), in forward order.
    public var layers: [String]
    public var records: [HealthRecord] = []
    /// Steps between records now (it doubles when the history is thinned).
    public var every: Int
    /// Alarms whose condition holds at the latest record.
    public var alarms: [HealthAlarm] = []
    /// Alarms as they were raised, oldest first (at most `HealthHistory.logLimit`).
    public var alarmLog: [HealthAlarm] = []
    /// Alarms raised over the run so far (the log keeps only the newest): a serial number for front ends.
    public var alarmsRaised = 0
    /// Share of this session's training time spent recording.
    public var overhead: Double = 0

    public static let logLimit = 64

    public init(layers: [String] = [], every: Int = 1) {
        self.layers = layers
        self.every = every
    }

    public var isEmpty: Bool { records.isEmpty }

    /// Drops the records after `step` (a divergence put the run back there).
    public mutating func truncate(after step: Int) {
        records.removeAll { $0.step > step }
    }

    /// Keeps every other record, oldest first, and doubles the cadence: what keeps a long run's history
    /// within its capacity.
    public mutating func thin() {
        records = records.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
        every *= 2
    }

    /// Adds a raised alarm to the log.
    public mutating func log(_ alarm: HealthAlarm) {
        alarmLog.append(alarm)
        if alarmLog.count > HealthHistory.logLimit { alarmLog.removeFirst(alarmLog.count - HealthHistory.logLimit) }
        alarmsRaised += 1
    }

    /// The values of `metric` for layer `index` over the records.
    public func series(_ metric: HealthMetric, layer index: Int) -> [(step: Int, value: Float)] {
        records.compactMap { record in
            guard index < record.layers.count else { return nil }
            return (record.step, metric.value(of: record.layers[index]))
        }
    }
}

/// A per-layer scalar the timeline can draw as a heat strip.
public enum HealthMetric: String, Sendable, CaseIterable {
    case gradientNorm, updateRatio, deadShare, weightNorm

    public func value(of layer: LayerHealth) -> Float {
        switch self {
        case .gradientNorm: return layer.gradientNorm
        case .updateRatio: return layer.updateRatio
        case .deadShare: return layer.deadShare
        case .weightNorm: return layer.weightNorm
        }
    }

    /// Whether the metric spans orders of magnitude (drawn on a log scale).
    public var isLogarithmic: Bool { self != .deadShare }
}
