import CKernels
import Dispatch
import Foundation
import Synchronization

/// Splits work across the machine's cores.
///
/// ConvScope parallelises over the batch itself and keeps OpenBLAS single-threaded (see `BLAS`), so the
/// two never compete for the same cores. Set `CONVSCOPE_THREADS` to use fewer or more workers.
///
/// A training step is a few hundred short loops, so what matters is how soon the other cores join each one.
/// Loops run on a pool of `workerCount - 1` threads that live as long as the process, with the calling thread
/// as one more worker (CKernels' `pool.c`): between loops the pool's threads spin briefly instead of parking,
/// so the next loop finds them awake, and park after that so an idle program costs no CPU. Dispatch parks its
/// threads at once, so the second core arrived late at every loop.
public enum Parallel {
    /// How many workers a parallel loop uses.
    public static let workerCount: Int = {
        if let text = ProcessInfo.processInfo.environment["CONVSCOPE_THREADS"], let n = Int(text), n > 0 {
            return n
        }
        return max(ProcessInfo.processInfo.activeProcessorCount, 1)
    }()

    /// Runs `body(i)` for `i` in `0..<iterations`, concurrently.
    ///
    /// The caller guarantees that different iterations write disjoint memory; everything the body
    /// reads is left unchanged until this call returns, because it returns only after all iterations
    /// have finished.
    public static func forEach(_ iterations: Int, _ body: (Int) -> Void) {
        forEach(iterations, workers: workerCount, body)
    }

    /// `forEach` with `workers` in place of `workerCount`, so that tests reach the one-worker path.
    static func forEach(_ iterations: Int, workers: Int, _ body: (Int) -> Void) {
        if iterations <= 1 {
            if iterations == 1 { body(0) }
            return
        }
        if workers == 1 {
            for index in 0..<iterations { body(index) }  // CONVSCOPE_THREADS=1: this thread alone
            return
        }
        withoutActuallyEscaping(body) { escapable in
            // The pool calls the body from its threads through a pointer to this local, which outlives the
            // call: ckernels_pool_run returns only after every iteration has finished. Sharing the body
            // this way is safe for the reason `UncheckedSendable` states.
            let pooled = poolThreads > 0 && withUnsafePointer(to: escapable) { pointer in
                ckernels_pool_run(iterations, runPooledIteration, UnsafeMutableRawPointer(mutating: pointer)) != 0
            }
            if pooled { return }
            // The pool is running another loop (or has no threads): one of another thread (the app's training and its
            // explanation workers, tests in parallel) or the loop this call is nested in. Waiting for it
            // could deadlock (nested) or serialise independent work, and running inline would leave the
            // other cores idle, so such a loop goes to Dispatch, which is how every loop ran before the pool.
            let shared = UncheckedSendable(escapable)
            DispatchQueue.concurrentPerform(iterations: iterations) { shared.value($0) }
        }
    }

    /// How many threads the pool has (started on the first parallel loop): `workerCount - 1`.
    static let poolThreads = Int(ckernels_pool_start(Int32(clamping: workerCount - 1)))

    /// Splits `0..<total` into at most `workerCount` contiguous ranges of at least `minimum` items
    /// and runs `body(range, worker)` for each, concurrently. Worker numbers are `0..<parts`.
    public static func forEachRange(_ total: Int, minimum: Int = 1, _ body: (Range<Int>, Int) -> Void) {
        let parts = partCount(total, minimum: minimum)
        forEach(parts) { part in body(range(part, of: parts, total: total), part) }
    }

    /// Runs `body(task, worker)` for every `task` in `0..<tasks`: each worker claims the next unclaimed task
    /// until none is left, so a worker that starts late or is interrupted (another program, the batch
    /// prefetcher) leaves its share to the others instead of holding up the join.
    ///
    /// `worker` (in `0..<workerCount`) names the thread running the task, for per-worker scratch space:
    /// no two tasks run at once on the same `worker`. Which worker runs which task varies from run to run,
    /// so anything that decides a result (a partial sum) must be indexed by the task, not by the worker.
    public static func forEachTask(_ tasks: Int, _ body: (_ task: Int, _ worker: Int) -> Void) {
        let workers = min(workerCount, tasks)
        if workers <= 1 {
            for task in 0..<tasks { body(task, 0) }
            return
        }
        let next = TaskCounter()
        forEach(workers) { worker in
            while true {
                let task = next.claim()
                if task >= tasks { return }
                body(task, worker)
            }
        }
    }

    /// Runs `body(range, worker)` over `0..<total` cut into about `chunksPerWorker` chunks per worker of at
    /// least `minimum` items, which the workers claim one at a time (`forEachTask`); `worker` is for
    /// per-worker scratch space only. For loops whose items are independent of each other: the chunks
    /// differ from `forEachRange`'s parts, and so do the workers that run them.
    public static func forEachChunk(
        _ total: Int, minimum: Int = 1, chunksPerWorker: Int = 4, _ body: (Range<Int>, Int) -> Void
    ) {
        let chunks = chunkCount(total, minimum: minimum, chunksPerWorker: chunksPerWorker)
        forEachTask(chunks) { chunk, worker in body(range(chunk, of: chunks, total: total), worker) }
    }

    /// How many chunks `forEachChunk` cuts `total` items into.
    public static func chunkCount(_ total: Int, minimum: Int = 1, chunksPerWorker: Int = 4) -> Int {
        guard total > 0 else { return 0 }
        return max(1, min(workerCount * max(chunksPerWorker, 1), total / max(minimum, 1)))
    }

    /// How many parts `forEachRange` would use for `total` items.
    public static func partCount(_ total: Int, minimum: Int = 1) -> Int {
        guard total > 0 else { return 0 }
        return max(1, min(workerCount, total / max(minimum, 1)))
    }

    /// The `part`-th of `parts` near-equal contiguous ranges covering `0..<total`.
    @inline(__always)
    public static func range(_ part: Int, of parts: Int, total: Int) -> Range<Int> {
        (total * part / parts)..<(total * (part + 1) / parts)
    }
}

/// One iteration of a pooled `Parallel.forEach`: `context` points at the loop's body.
private let runPooledIteration: ckernels_pool_body = { context, index in
    context.unsafelyUnwrapped.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index)
}

/// The next unclaimed task of a `Parallel.forEachTask` loop.
private final class TaskCounter: Sendable {
    private let next = Atomic<Int>(0)

    /// Claims a task: each number is handed out once.
    func claim() -> Int { next.wrappingAdd(1, ordering: .relaxed).oldValue }
}

/// Carries a value that is not `Sendable` into a `@Sendable` closure.
///
/// Only `Parallel.forEach` uses it (and shares the body with the pool on the same terms), for the loop body: the body's captured state is either read-only
/// for the duration of the loop or written at indices that differ between iterations, and the loop
/// does not return before every iteration has finished, so no access outlives or races the caller.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
