import Dispatch
import Foundation
import XCTest

@testable import ConvKit

/// `Parallel.forEach` on its worker pool: every iteration runs once and has finished when the call returns,
/// however many loops follow each other, whichever threads call it at once, and when loops nest.
final class ParallelPoolTests: XCTestCase {
    /// Loops of varied sizes, back to back (the pool's workers spinning between them, or parked after a pause):
    /// every index runs exactly once per loop, and its write is visible when the loop returns.
    func testEveryIndexRunsOnceOverManyLoops() {
        let sizes = [2, 3, 5, 17, 64, 257, 1000]
        for round in 0..<2000 {
            let size = sizes[round % sizes.count]
            var runs = [Int](repeating: 0, count: size)
            runs.withUnsafeMutableBufferPointer { runs in
                Parallel.forEach(size) { index in runs[index] += 1 }
            }
            XCTAssertEqual(runs, [Int](repeating: 1, count: size), "loop \(round) of \(size)")
            if round % 500 == 499 { usleep(20_000) }  // long enough for the workers to park
        }
    }

    /// Several threads run loops at the same time (the app's training and its explanation workers do): each
    /// caller's loops run each of their own indices once, whether the pool or the fallback ran them.
    func testConcurrentCallersEachRunTheirLoopsOnce() {
        let callers = 4, loops = 150, size = 97
        var runs = [Int](repeating: 0, count: callers * loops * size)
        runs.withUnsafeMutableBufferPointer { runs in
            let shared = UncheckedSendable(runs)
            DispatchQueue.concurrentPerform(iterations: callers) { caller in
                for loop in 0..<loops {
                    let base = (caller * loops + loop) * size
                    Parallel.forEach(size) { index in shared.value[base + index] += 1 }
                }
            }
        }
        XCTAssertEqual(runs, [Int](repeating: 1, count: callers * loops * size))
    }

    /// A loop body that runs loops of its own, two levels deep, through each of the loop forms.
    func testNestedLoopsRunEveryIndexOnce() {
        let outer = 6, middle = 5, inner = 33
        var runs = [Int](repeating: 0, count: outer * middle * inner)
        runs.withUnsafeMutableBufferPointer { runs in
            let shared = UncheckedSendable(runs)
            Parallel.forEach(outer) { o in
                Parallel.forEachTask(middle) { m, _ in
                    Parallel.forEachChunk(inner) { range, _ in
                        for i in range { shared.value[(o * middle + m) * inner + i] += 1 }
                    }
                }
            }
        }
        XCTAssertEqual(runs, [Int](repeating: 1, count: outer * middle * inner))
    }

    /// One slow iteration holds the loop until it finishes: the call returns with every write done, and the
    /// next loop runs normally.
    func testSlowIterationFinishesBeforeTheLoopReturns() {
        for slow in [0, 31, 63] {
            var values = [Int](repeating: 0, count: 64)
            values.withUnsafeMutableBufferPointer { values in
                Parallel.forEach(64) { index in
                    if index == slow { usleep(30_000) }
                    values[index] = index + 1
                }
            }
            XCTAssertEqual(values, Array(1...64), "slow index \(slow)")
        }
    }

    /// With one worker (`CONVSCOPE_THREADS=1`) a loop runs on the calling thread alone, in index order.
    func testOneWorkerRunsOnTheCallingThreadInOrder() {
        let caller = pthread_self()
        var order: [Int] = [], otherThreads = 0
        Parallel.forEach(50, workers: 1) { index in
            order.append(index)
            if pthread_equal(pthread_self(), caller) == 0 { otherThreads += 1 }
        }
        XCTAssertEqual(order, Array(0..<50))
        XCTAssertEqual(otherThreads, 0)
    }
}
