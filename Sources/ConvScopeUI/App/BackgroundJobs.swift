import ConvKit
import Dispatch
import Synchronization

/// Work the UI thread hands off so that no key waits for it, run one job at a time in the order
/// given; the event loop picks up each finished job's status message.
///
/// An export needs the insight for the current selection, which may have to be computed on the
/// current weights, and that waits for the training step in progress: run on the UI thread, `e` and
/// `E` stalled the keys for seconds on a busy machine (found by the soak test; docs/performance.md,
/// "The app's own cost").
public final class BackgroundJobs: Sendable {
    private let queue: DispatchQueue
    private let finished = Mutex<Finished>(Finished())

    private struct Finished {
        var count = 0
        var message: StatusMessage?
    }

    public init(label: String) {
        queue = DispatchQueue(label: label, qos: .userInitiated)
    }

    /// Queues `job`; returns at once.
    public func run(_ job: @escaping @Sendable () -> StatusMessage) {
        queue.async {
            let message = job()
            FreedMemory.release()
            self.finished.withLock {
                $0.count += 1
                $0.message = message
            }
        }
    }

    /// How many jobs have finished (a reader can tell when there is something new to draw).
    public var finishedCount: Int { finished.withLock { $0.count } }

    /// The message of the newest job finished since the last call, if any.
    public func takeMessage() -> StatusMessage? {
        finished.withLock { state in
            defer { state.message = nil }
            return state.message
        }
    }

    /// Waits for the queued jobs (before the app exits: an export in progress is completed, never
    /// left half-written).
    public func finish() {
        queue.sync {}
    }
}
