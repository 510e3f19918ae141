import Synchronization

/// A flag that one thread raises and a long loop on another thread polls between units of work, so
/// that the loop ends early: the app raises it when the user quits, and a test-set evaluation in
/// progress then stops after its current batch instead of running to the end.
public final class StopSignal: Sendable {
    private let raised = Atomic<Bool>(false)

    public init() {}

    /// Asks every loop that polls this signal to stop. Cannot be undone.
    public func raise() { raised.store(true, ordering: .relaxed) }

    public var isRaised: Bool { raised.load(ordering: .relaxed) }
}
