import CCleanup
import Synchronization

/// A flag that one thread raises and a long loop on another thread polls between units of work, so
/// that the loop ends early: the app raises it when the user quits, and a test-set evaluation in
/// progress then stops after its current batch instead of running to the end.
///
/// A signal made with `raisedByInterrupts` also counts as raised once the command line's handlers
/// (`CCleanup`, graceful mode) have seen SIGINT, SIGTERM or SIGHUP: a download stops and cleans up.
public final class StopSignal: Sendable {
    private let raised = Atomic<Bool>(false)
    private let observesInterrupts: Bool

    public init(raisedByInterrupts: Bool = false) {
        observesInterrupts = raisedByInterrupts
    }

    /// Asks every loop that polls this signal to stop. Cannot be undone.
    public func raise() { raised.store(true, ordering: .relaxed) }

    public var isRaised: Bool {
        raised.load(ordering: .relaxed) || (observesInterrupts && ccleanup_interrupts_received() > 0)
    }
}
