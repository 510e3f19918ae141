import Foundation

/// A value several threads hand over to each other, behind a POSIX mutex.
///
/// The standard library's `Synchronization.Mutex` would do the same job, but on Linux it is built from futex
/// calls and atomics that ThreadSanitizer does not see, so every value handed over through it is reported
/// as a race and `make sanitize-thread` could not tell a real race from one of those. `pthread_mutex_lock`
/// is intercepted by the sanitizer, so the order a lock establishes is checked like any other.
///
/// The unchecked `Sendable` conformance is sound because `value` is only ever read or written inside
/// `withLock`, between `pthread_mutex_lock` and `pthread_mutex_unlock` of the one mutex this instance owns,
/// and it never escapes the closure by reference (`Value` is `Sendable`, so copies out are safe).
public final class Locked<Value: Sendable>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    public init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the value while holding the lock.
    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
