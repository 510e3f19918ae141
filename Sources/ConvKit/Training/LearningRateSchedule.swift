import Foundation

/// How the learning rate moves over a run, as a function of the step.
public enum LearningRateSchedule: Sendable, Equatable, CustomStringConvertible {
    /// The peak rate throughout.
    case constant
    /// Multiplied by `gamma` every `epochs` epochs.
    case step(epochs: Int, gamma: Float)
    /// Half a cosine from the peak down to zero over the run.
    case cosine
    /// PyTorch's `OneCycleLR` (cosine annealing): from peak/`divisor` up to the peak over the first
    /// `warmup` fraction of steps, then down to peak/(`divisor` * `finalDivisor`). Momentum cycles
    /// inversely between 0.95 and 0.85, as PyTorch does by default.
    case oneCycle(warmup: Float, divisor: Float, finalDivisor: Float)

    /// Linear warm-up from zero to the peak over the first `warmup` fraction of steps, then a linear
    /// decay to zero (the shape of the CIFAR-10 speed-run recipes).
    case linear(warmup: Float)

    /// The one-cycle settings of the reference recipe: 15% warm-up, start at peak/10, end at peak/1000.
    public static let standardOneCycle = LearningRateSchedule.oneCycle(warmup: 0.15, divisor: 10, finalDivisor: 100)

    /// Parses `constant`, `step`, `step:EPOCHS:GAMMA`, `cosine`, `onecycle`, `onecycle:WARMUP`, `linear`,
    /// `linear:WARMUP`.
    public init?(_ text: String) {
        let parts = text.lowercased().split(separator: ":").map(String.init)
        switch parts.first {
        case "constant" where parts.count == 1: self = .constant
        case "cosine" where parts.count == 1: self = .cosine
        case "step":
            let epochs = parts.count > 1 ? Int(parts[1]) : 10
            let gamma = parts.count > 2 ? Float(parts[2]) : 0.1
            guard let epochs, let gamma, epochs > 0, gamma.isFinite, gamma >= 0, parts.count <= 3 else { return nil }
            self = .step(epochs: epochs, gamma: gamma)
        case "linear":
            let warmup = parts.count > 1 ? Float(parts[1]) : 0.2
            guard let warmup, warmup >= 0, warmup < 1, parts.count <= 2 else { return nil }
            self = .linear(warmup: warmup)
        case "onecycle":
            let warmup = parts.count > 1 ? Float(parts[1]) : 0.15
            guard let warmup, warmup > 0, warmup < 1, parts.count <= 2 else { return nil }
            self = .oneCycle(warmup: warmup, divisor: 10, finalDivisor: 100)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .constant: return "constant"
        case .cosine: return "cosine"
        case let .step(epochs, gamma): return "step:\(epochs):\(gamma)"
        case let .oneCycle(warmup, _, _): return "onecycle:\(warmup)"
        case .linear(let warmup): return "linear:\(warmup)"
        }
    }

    /// The learning rate for `step` (0-based) of `totalSteps`, given the peak rate.
    public func rate(peak: Float, step: Int, totalSteps: Int, stepsPerEpoch: Int) -> Float {
        switch self {
        case .constant:
            return peak
        case let .step(epochs, gamma):
            return peak * pow(gamma, Float(step / max(stepsPerEpoch * epochs, 1)))
        case .cosine:
            let t = Float(min(step, totalSteps)) / Float(max(totalSteps, 1))
            return peak * 0.5 * (1 + cos(Float.pi * t))
        case .linear(let warmup):
            let rise = warmup * Float(totalSteps), s = Float(step) + 1
            if s <= rise { return peak * s / rise }
            return peak * max(0, Float(totalSteps) - s + 1) / max(Float(totalSteps) - rise, 1)
        case let .oneCycle(warmup, divisor, finalDivisor):
            let start = peak / divisor, end = start / finalDivisor
            let (phase, fraction) = oneCyclePhase(step: step, totalSteps: totalSteps, warmup: warmup)
            return phase == 0 ? annealed(from: start, to: peak, fraction) : annealed(from: peak, to: end, fraction)
        }
    }

    /// The SGD momentum for `step` when the schedule cycles it (one-cycle), else nil.
    public func momentum(step: Int, totalSteps: Int) -> Float? {
        guard case let .oneCycle(warmup, _, _) = self else { return nil }
        let (phase, fraction) = oneCyclePhase(step: step, totalSteps: totalSteps, warmup: warmup)
        return phase == 0 ? annealed(from: 0.95, to: 0.85, fraction) : annealed(from: 0.85, to: 0.95, fraction)
    }

    /// PyTorch's phase boundaries: warm-up ends at step `warmup * total - 1`, annealing at `total - 1`.
    private func oneCyclePhase(step: Int, totalSteps: Int, warmup: Float) -> (Int, Float) {
        let warmupEnd = Float(warmup * Float(totalSteps)) - 1, end = Float(totalSteps - 1)
        let s = Float(step)
        if s <= warmupEnd {
            return (0, warmupEnd > 0 ? s / warmupEnd : 1)
        }
        return (1, end > warmupEnd ? min((s - warmupEnd) / (end - warmupEnd), 1) : 1)
    }

    private func annealed(from start: Float, to end: Float, _ fraction: Float) -> Float {
        end + (start - end) / 2 * (cos(Float.pi * fraction) + 1)
    }
}

/// Kept as its text (`description`, read back by `init?(_:)`), as the command line writes it.
extension LearningRateSchedule: Codable {
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let schedule = LearningRateSchedule(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a schedule: '\(text)'"))
        }
        self = schedule
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
