import Foundation

/// Smith's learning-rate range test ("Cyclical Learning Rates for Training Neural Networks", 2017, §3.3),
/// as fastai runs it: from a fresh (or given) network, train a few hundred steps with the rate growing
/// geometrically from `start` to `end`, record the loss against the rate, and stop once the smoothed loss
/// passes four times its best (or a number turns non-finite). The suggested rate is a tenth of the rate
/// at the lowest smoothed loss: the loss still falls fast there, and the run is far from the blow-up.
///
/// It runs its own `Trainer` (constant schedule, recording off) on the network it is given: pass a copy
/// to keep a model as it was (the app does).
public struct LearningRateFinder: Sendable {
    public var start: Float = 1e-6
    public var end: Float = 10
    public var steps = 100
    /// The smoothing of the loss curve (an exponential moving average, bias-corrected).
    public var smoothing: Float = 0.98
    /// The smoothed loss this many times its best ends the test.
    public var divergenceFactor: Float = 4

    public init(start: Float = 1e-6, end: Float = 10, steps: Int = 100) {
        self.start = start
        self.end = end
        self.steps = steps
    }

    /// One step of the test.
    public struct Point: Sendable, Equatable {
        public var rate: Float
        public var loss: Float
        public var smoothedLoss: Float

        public init(rate: Float, loss: Float, smoothedLoss: Float) {
            self.rate = rate
            self.loss = loss
            self.smoothedLoss = smoothedLoss
        }
    }

    public struct Result: Sendable, Equatable {
        public var points: [Point]
        /// A tenth of the rate at the lowest smoothed loss; nil when the test stopped before a minimum.
        public var suggestedRate: Float?
        /// The rate where the smoothed loss fell fastest (per decade of rate), another common reading.
        public var steepestRate: Float?
        /// Why it stopped early: the loss grew past `divergenceFactor` times its best, or turned non-finite.
        public var stoppedEarly: Bool

        public init(points: [Point], suggestedRate: Float?, steepestRate: Float?, stoppedEarly: Bool) {
            self.points = points
            self.suggestedRate = suggestedRate
            self.steepestRate = steepestRate
            self.stoppedEarly = stoppedEarly
        }
    }

    /// The rate of step `index` (0-based): `start * (end / start)^(index / (steps - 1))`.
    public func rate(at index: Int) -> Float {
        start * Float(pow(Double(end / start), Double(index) / Double(max(steps - 1, 1))))
    }

    /// Runs the test on `network` with `config`'s batch, optimiser, augmentation and seed; `progress` sees
    /// each point and may return false to stop (the app's cancel).
    public func run(
        config: TrainingConfig, dataset: Dataset, network: Network, progress: (Point) -> Bool = { _ in true }
    ) -> Result {
        var config = config
        config.schedule.learningRate = .constant
        config.learningRate = start
        // Enough epochs that the schedule never ends; an epoch boundary (a small train set) evaluates and goes on.
        config.epochs = max(config.epochs, steps + 1)
        let trainer = Trainer(config: config, dataset: dataset, network: network)
        trainer.health.settings.every = 0
        trainer.weightHistory.cadence = .off  // a throwaway copy: nobody scrubs it
        var points: [Point] = []
        var average: Float = 0, best = Float.infinity, stoppedEarly = false
        for index in 0..<steps {
            let rate = self.rate(at: index)
            trainer.learningRateScale = rate / start
            let loss: Float
            switch trainer.step() {
            case .step(let step), .epochFinished(let step, _, _): loss = step.loss
            case .diverged: loss = .nan
            }
            guard loss.isFinite else {
                stoppedEarly = true
                break
            }
            average = smoothing * average + (1 - smoothing) * loss
            let smoothed = average / (1 - Float(pow(Double(smoothing), Double(index + 1))))
            let point = Point(rate: rate, loss: loss, smoothedLoss: smoothed)
            points.append(point)
            best = min(best, smoothed)
            if !progress(point) { break }
            if index > 0 && smoothed > divergenceFactor * best {
                stoppedEarly = true
                break
            }
        }
        return Result(
            points: points, suggestedRate: LearningRateFinder.suggestion(points), steepestRate: LearningRateFinder.steepest(points),
            stoppedEarly: stoppedEarly)
    }

    /// A tenth of the rate at the lowest smoothed loss, unless that is the last point (no minimum seen).
    public static func suggestion(_ points: [Point]) -> Float? {
        guard points.count >= 3, let low = points.indices.min(by: { points[$0].smoothedLoss < points[$1].smoothedLoss }),
            low < points.count - 1
        else { return nil }
        return points[low].rate / 10
    }

    /// The rate at the steepest fall of the smoothed loss against log10(rate), before the minimum.
    public static func steepest(_ points: [Point]) -> Float? {
        guard points.count >= 3, let low = points.indices.min(by: { points[$0].smoothedLoss < points[$1].smoothedLoss }), low >= 1
        else { return nil }
        var best: (slope: Float, rate: Float)?
        for i in 1...low {
            let run = log10(points[i].rate) - log10(points[i - 1].rate)
            guard run > 0 else { continue }
            let slope = (points[i].smoothedLoss - points[i - 1].smoothedLoss) / run
            if slope < (best?.slope ?? 0) { best = (slope, points[i].rate) }
        }
        return best?.rate
    }
}
