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
    /// The newest test started and the newest cancelled, numbered: a test runs while it is the newest and
    /// not cancelled. (A flag the job cleared when it began lost a cancel typed before the queue got to
    /// it: `L` and at once Esc left the test running to its end; the soak found it.)
    private let tests = Mutex<(started: Int, cancelled: Int)>((0, 0))

    public init() {}

    /// The test's progress, or nil before the first `start`.
    public var current: State? { state.withLock { $0 } }

    /// Starts a test on a copy of `session`'s weights with the run's config (a test in progress is cancelled).
    public func start(session: TrainingSession, dataset: Dataset, finder: LearningRateFinder = LearningRateFinder(start: 1e-6, end: 10, steps: 100)) {
        let test = tests.withLock { tests in
            tests.started += 1
            return tests.started
        }
        queue.async {
            guard self.isLive(test) else { return }
            self.state.withLock { $0 = State(steps: finder.steps) }
            let network = session.copyNetwork().network
            let config = session.snapshot.config
            let result = finder.run(config: config, dataset: dataset, network: network) { point in
                self.state.withLock {
                    $0?.points.append(point)
                    $0?.serial += 1
                }
                return self.isLive(test)
            }
            self.state.withLock {
                $0?.result = result
                $0?.serial += 1
            }
            FreedMemory.release()
        }
    }

    /// Stops a running test after its current step, or a queued one before it starts.
    public func cancel() { tests.withLock { $0.cancelled = $0.started } }

    private func isLive(_ test: Int) -> Bool {
        tests.withLock { $0.started == test && $0.cancelled < test }
    }

    /// Waits for a test in progress to stop (before the app exits).
    public func finish() {
        cancel()
        queue.sync {}
    }
}
