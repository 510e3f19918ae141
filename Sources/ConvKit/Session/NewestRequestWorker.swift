import Dispatch

/// Computes, on its own serial queue, a value for the newest request only: a new request cancels the
/// computation in progress, which publishes partial values as it goes. What the explanation board and
/// the sanity curve share; each supplies the computation.
///
/// Cancelling is cooperative: every request gets a generation number, and a computation asks its `Job`
/// whether it is still current (the methods' progress callbacks answer false once it is not) and can
/// only publish while it is.
final class NewestRequestWorker<Request: Sendable & Equatable, Value: Sendable>: Sendable {
    /// What a computation may do: ask whether it is still wanted, and publish what it has.
    struct Job: Sendable {
        fileprivate let worker: NewestRequestWorker
        let generation: Int

        var isCurrent: Bool { worker.state.withLock { $0.generation == generation } }

        /// Makes `value` the worker's latest, unless a newer request came in meanwhile.
        func publish(_ value: Value) {
            worker.state.withLock { state in
                if state.generation == generation { state.latest = value }
            }
        }
    }

    private struct State {
        var latest: Value?
        var request: Request?
        /// Bumped by every new request; a computation whose generation is old stops.
        var generation = 0
    }

    private let queue: DispatchQueue
    private let state = Locked<State>(State())
    private let compute: @Sendable (Request, Job) -> Void

    init(label: String, compute: @escaping @Sendable (Request, Job) -> Void) {
        queue = DispatchQueue(label: label, qos: .utility)
        self.compute = compute
    }

    /// The newest value for the current request (partial while computing), nil when there is none yet.
    var latest: Value? { state.withLock { $0.latest } }

    /// The request being computed or shown.
    var request: Request? { state.withLock { $0.request } }

    /// Starts on `request` when it differs from the current one, cancelling the computation in
    /// progress; nil cancels without starting. Cheap to call every frame.
    func update(_ request: Request?) {
        let generation: Int? = state.withLock { state in
            guard state.request != request else { return nil }
            state.request = request
            state.generation += 1
            state.latest = nil
            return request == nil ? nil : state.generation
        }
        guard let generation, let request else { return }
        queue.async { self.run(request, generation: generation) }
    }

    /// Cancels the computation in progress and waits for it to stop (before the process exits).
    func finish() {
        update(nil)
        queue.sync {}
    }

    /// Computes `request` synchronously on the worker's queue (tests, scripts) and returns its value.
    func computeNow(_ request: Request) -> Value? {
        let generation: Int = state.withLock { state in
            state.request = request
            state.generation += 1
            state.latest = nil
            return state.generation
        }
        queue.sync { run(request, generation: generation) }
        return latest
    }

    private func run(_ request: Request, generation: Int) {
        let job = Job(worker: self, generation: generation)
        guard job.isCurrent else { return }
        compute(request, job)
        // A computation's buffers (RISE's masks, a cascade's copies) can peak far above the app's size.
        FreedMemory.release()
    }
}
