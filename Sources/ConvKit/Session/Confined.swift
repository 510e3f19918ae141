/// Holds a non-Sendable value that only one serial Dispatch queue ever touches.
///
/// Its users keep that promise by construction: `TrainingSession` reads and writes its trainer only in
/// blocks running on its serial training queue (`runStep`, `scheduleStep`, `publish`, `command` blocks,
/// `queue.sync`), and `InsightWorker` touches its network copy only inside `compute`, which runs on its
/// serial insight queue; `RunWatcher` touches its directory reader only on its polling queue and the
/// network it shows only on its weights queue (both serial, every access inside a block on them); `ComparisonWorker`
/// touches its two models only in blocks on its serial compare queue.
/// Accesses are therefore ordered by the queue and never concurrent, which is what makes the unchecked
/// `Sendable` conformance sound.
final class Confined<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
