import ConvKit

/// How long training has left: the one estimate behind the app's header (a session's or a watched run's)
/// and the command line's progress bar.
public enum ETA {
    /// Seconds to train `steps` more steps of `batchSize` images at `imagesPerSecond`; nil while the speed is
    /// unknown (not positive or not finite) or the number of steps left is (negative).
    public static func seconds(steps: Int, batchSize: Int, imagesPerSecond: Double) -> Double? {
        guard imagesPerSecond > 0, imagesPerSecond.isFinite, steps >= 0 else { return nil }
        return Double(steps) * Double(batchSize) / imagesPerSecond
    }
}

extension TrainingSnapshot {
    /// Seconds of training left at the recent speed, or nil before it is known (and for a watched run whose
    /// length `run.json` does not give).
    public var secondsRemaining: Double? {
        ETA.seconds(steps: totalSteps - globalStep, batchSize: config.batchSize, imagesPerSecond: imagesPerSecond)
    }
}
