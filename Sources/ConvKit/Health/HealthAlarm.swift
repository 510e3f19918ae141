import Foundation

/// Something in the health timeline a person should look at. A value; front ends word it
/// (`HealthText` in the app and the CLI).
public struct HealthAlarm: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A NaN or infinity: in the loss, gradients or weights (the trainer's divergence check found it and
        /// put the run back), or in a layer's activations on the probe batch.
        case nonFinite(quantity: String)
        /// The total gradient norm is `factor` times the median of the records before it.
        case gradientSpike(norm: Float, median: Float)
        /// A layer's update-to-weight ratio has stayed outside the rule of thumb's band for `records` records.
        case updateRatio(ratio: Float, records: Int)
        /// A layer's share of dead units on the probe batch is above the threshold.
        case deadUnits(share: Float, zeroFilters: Float)
    }

    public var kind: Kind
    /// The layer concerned, when it is one layer.
    public var layer: String?
    /// The global step at which it was raised (or, for standing alarms, last confirmed).
    public var step: Int

    public init(kind: Kind, layer: String?, step: Int) {
        self.kind = kind
        self.layer = layer
        self.step = step
    }

    /// Two alarms are the same condition when their kind case and layer agree (values and steps aside).
    public func isSameCondition(as other: HealthAlarm) -> Bool {
        guard layer == other.layer else { return false }
        switch (kind, other.kind) {
        case (.nonFinite, .nonFinite), (.gradientSpike, .gradientSpike), (.deadUnits, .deadUnits): return true
        case let (.updateRatio(a, _), .updateRatio(b, _)): return (a > 1e-3) == (b > 1e-3)
        default: return false
        }
    }
}

/// When the health alarms fire: configuration as data, with defaults that stay quiet on healthy
/// CIFAR-10 runs of the presets (docs/timeline.md).
public struct HealthSettings: Sendable, Equatable, Codable {
    /// Steps between records; nil chooses about 20 records per epoch (and steps 1, 2, 4, ... before the
    /// first); 0 turns recording off.
    public var every: Int?
    /// Test images in the probe batch the activations are measured on.
    public var probeImages = 32
    /// Records kept; past this the history keeps every other record and the cadence doubles.
    public var capacity = 256
    /// The recording's share of training time that doubles the cadence when passed (measured as it runs).
    public var overheadBudget = 0.02
    /// A gradient norm this many times the running median raises a spike alarm...
    public var spikeFactor: Float = 10
    /// ...measured over this many records before it (and only once there are `spikeWarmup` of them).
    public var spikeWindow = 32
    public var spikeWarmup = 8
    /// An update ratio further than this many decades from 1e-3...
    public var ratioDecades: Float = 1.5
    /// ...for this many records in a row, spanning at least `ratioSpan` steps, raises an alarm (the first
    /// few steps from a fresh initialisation move the weights far more, and settle). A ratio below the band
    /// is not an alarm while the schedule's rate is under `quietRateShare` of its peak (the end of a
    /// one-cycle or cosine run).
    public var ratioPersistence = 5
    public var ratioSpan = 20
    public var quietRateShare: Float = 0.1
    /// A dead-unit share above this raises an alarm.
    public var deadThreshold: Float = 0.5

    public init(every: Int? = nil) { self.every = every }

    /// The rule of thumb for the update-to-weight ratio of one step.
    public static let typicalUpdateRatio: Float = 1e-3
}

/// Decides which alarms stand after each record: a pure function of the history and the settings.
public enum HealthAlarmRules {
    /// The alarms that hold at the newest record of `history`. `peakRate` is the schedule's peak
    /// learning rate; `ratioKinds[i]` says whether layer `i` trains (frozen layers have no update ratio),
    /// `deadApplies[i]` whether its activation can be dead (a ReLU-family output).
    public static func alarms(
        in history: HealthHistory, settings: HealthSettings, peakRate: Float, trains: [Bool], deadApplies: [Bool],
        nonFiniteActivations: [String]
    ) -> [HealthAlarm] {
        guard let latest = history.records.last else { return [] }
        var alarms = nonFiniteActivations.map { HealthAlarm(kind: .nonFinite(quantity: "activations"), layer: $0, step: latest.step) }
        let before = history.records.dropLast().suffix(settings.spikeWindow).map(\.gradientNorm).filter(\.isFinite)
        if before.count >= settings.spikeWarmup {
            let median = before.sorted()[before.count / 2]
            if median > 0, latest.gradientNorm > settings.spikeFactor * median {
                alarms.append(HealthAlarm(kind: .gradientSpike(norm: latest.gradientNorm, median: median), layer: nil, step: latest.step))
            }
        }
        let recent = history.records.suffix(settings.ratioPersistence)
        let quiet = latest.learningRate < settings.quietRateShare * peakRate
        for (index, name) in history.layers.enumerated() {
            let layer = latest.layers[index]
            if index < trains.count, trains[index], recent.count == settings.ratioPersistence,
                latest.step - recent.first!.step >= settings.ratioSpan
            {
                let offsets = recent.map { log10(max($0.layers[index].updateRatio, 1e-30) / HealthSettings.typicalUpdateRatio) }
                let high = offsets.allSatisfy { $0 > settings.ratioDecades }
                let low = offsets.allSatisfy { $0 < -settings.ratioDecades } && !quiet
                if high || low {
                    alarms.append(
                        HealthAlarm(kind: .updateRatio(ratio: layer.updateRatio, records: recent.count), layer: name, step: latest.step))
                }
            }
            if index < deadApplies.count, deadApplies[index], layer.deadShare > settings.deadThreshold {
                alarms.append(
                    HealthAlarm(kind: .deadUnits(share: layer.deadShare, zeroFilters: layer.zeroFilterShare), layer: name, step: latest.step))
            }
        }
        return alarms
    }
}
