import ConvKit
import Dispatch
import Synchronization

/// The app's learning-rate range test (`L`): runs `LearningRateFinder` on a copy of the session's weights
/// on its own queue, while training goes on (or stays paused), and publishes the curve as it grows.
/// Cancelling stops it after the current step.
public final class LearningRateSearch: Sendable {
    /// What the overlay shows.
    public struct State: Sendable, Equatable {
        public var points: [LearningRateFinder.Point] = []
        /// Set once the test has ended (nil while it runs).
        public var result: LearningRateFinder.Result?
        public var steps: Int
        public var serial = 0
        public var isRunning: Bool { result == nil }

        public init(steps: Int) { self.steps = steps }
    }

    private let queue = DispatchQueue(label: "convscope.lr-find", qos: .utility)
    private let state = Mutex<State?>(nil)
    private let cancelled = Mutex(false)

    public init() {}

    /// The test's progress, or nil before the first `start`.
    public var current: State? { state.withLock { $0 } }

    /// Starts a test on a copy of `session`'s weights with the run's config (a test in progress is cancelled).
    public func start(session: TrainingSession, dataset: Dataset, finder: LearningRateFinder = LearningRateFinder(start: 1e-6, end: 10, steps: 100)) {
        cancel()
        queue.async {
            self.cancelled.withLock { $0 = false }
            self.state.withLock { $0 = State(steps: finder.steps) }
            let network = session.copyNetwork().network
            let config = session.snapshot.config
            let result = finder.run(config: config, dataset: dataset, network: network) { point in
                self.state.withLock {
                    $0?.points.append(point)
                    $0?.serial += 1
                }
                return !self.cancelled.withLock { $0 }
            }
            self.state.withLock {
                $0?.result = result
                $0?.serial += 1
            }
        }
    }

    /// Stops a running test after its current step.
    public func cancel() { cancelled.withLock { $0 = true } }

    /// Waits for a test in progress to stop (before the app exits).
    public func finish() {
        cancel()
        queue.sync {}
    }
}
