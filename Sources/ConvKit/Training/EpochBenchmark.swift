import Foundation

/// Times whole training epochs as `convscope train` runs them: batch assembly and augmentation, the
/// steps, the end-of-epoch checks and the test-set evaluation, on a real `Trainer`. `Benchmark` times the
/// steps alone on random data; the two side by side show what the training loop adds.
public struct EpochBenchmark: Sendable {
    /// What one epoch took.
    public struct Result: Sendable {
        public var model: String
        /// Training images in the epoch.
        public var images: Int
        /// Seconds of the epoch's steps (batch assembly included): what the epoch's images/s counts.
        public var stepSeconds: Double
        /// Seconds from the first step to the recorded epoch: the steps, the checks and the test evaluation.
        public var wallSeconds: Double
        /// CPU seconds (user and system, every thread) the process used over `wallSeconds`.
        public var cpuSeconds: Double
        public var testAccuracy: Float

        /// Training images per second of the steps, as `convscope train` reports an epoch's speed.
        public var stepImagesPerSecond: Double { Double(images) / max(stepSeconds, 1e-9) }
        /// Training images per second of the whole epoch, test evaluation included.
        public var epochImagesPerSecond: Double { Double(images) / max(wallSeconds, 1e-9) }
        /// Seconds of the epoch not spent in steps (mostly the test evaluation).
        public var evaluationSeconds: Double { max(wallSeconds - stepSeconds, 0) }
        /// Cores kept busy on average, in percent (200 is both of two cores all the time).
        public var cpuPercent: Double { 100 * cpuSeconds / max(wallSeconds, 1e-9) }
    }

    /// The run diverged before its epoch ended, so there is no epoch to time.
    public struct Diverged: Error, CustomStringConvertible {
        public var model: String
        public var divergence: Divergence
        public var description: String {
            "the epoch benchmark of \(model) diverged at step \(divergence.globalStep) (\(divergence.quantity)); no epoch to time"
        }
    }

    public init() {}

    /// Trains `config` (its first epoch; `config.epochs` sets the schedule's length) on `dataset` and
    /// times that epoch.
    public func run(config: TrainingConfig, dataset: Dataset) throws -> Result {
        let trainer = try Trainer(config: config, dataset: dataset)
        let startCPU = EpochBenchmark.processCPUSeconds()
        let stopwatch = Stopwatch()
        while true {
            switch trainer.step() {
            case .step: continue
            case .diverged(let divergence):
                // The timing of an epoch cut short would mislead, so the benchmark stops.
                throw Diverged(model: config.model, divergence: divergence)
            case let .epochFinished(_, epoch, evaluation):
                let wall = stopwatch.seconds
                return Result(
                    model: config.model, images: trainer.stepsPerEpoch * config.batchSize, stepSeconds: epoch.seconds,
                    wallSeconds: wall, cpuSeconds: EpochBenchmark.processCPUSeconds() - startCPU,
                    testAccuracy: evaluation.accuracy)
            }
        }
    }

    /// User and system CPU seconds of this process so far, all threads.
    public static func processCPUSeconds() -> Double {
        var usage = rusage()
        guard getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage) == 0 else { return 0 }
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}
