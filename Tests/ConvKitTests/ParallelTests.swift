import XCTest

@testable import ConvKit

final class ParallelTests: XCTestCase {
    /// Every task runs exactly once, on a worker number that names per-worker scratch space.
    func testEveryTaskRunsOnceOnAValidWorker() {
        for tasks in [0, 1, 2, 3, 17, 1000] {
            var runs = [Int](repeating: 0, count: tasks), workers = [Int](repeating: -1, count: tasks)
            runs.withUnsafeMutableBufferPointer { runs in
                workers.withUnsafeMutableBufferPointer { workers in
                    Parallel.forEachTask(tasks) { task, worker in
                        runs[task] += 1
                        workers[task] = worker
                    }
                }
            }
            XCTAssertEqual(runs, [Int](repeating: 1, count: tasks), "\(tasks) tasks")
            XCTAssertTrue(workers.allSatisfy { (0..<Parallel.workerCount).contains($0) }, "\(tasks) tasks: \(workers)")
        }
    }

    /// The chunks cover every item once, in ranges of at least `minimum` items (but for a total below it).
    func testChunksCoverEveryItemOnce() {
        for (total, minimum) in [(0, 1), (1, 1), (7, 1), (128, 1), (100_003, 1024), (5000, 32_768)] {
            var seen = [Int](repeating: 0, count: total)
            let chunks = Parallel.chunkCount(total, minimum: minimum)
            var shortest = [Int](repeating: .max, count: Parallel.workerCount)
            seen.withUnsafeMutableBufferPointer { seen in
                shortest.withUnsafeMutableBufferPointer { shortest in
                    Parallel.forEachChunk(total, minimum: minimum) { range, worker in
                        for i in range { seen[i] += 1 }
                        shortest[worker] = min(shortest[worker], range.count)
                    }
                }
            }
            XCTAssertEqual(seen, [Int](repeating: 1, count: total), "total \(total)")
            if total >= minimum && chunks > 0 {
                XCTAssertGreaterThanOrEqual(shortest.min()!, minimum, "total \(total), minimum \(minimum)")
            }
            XCTAssertLessThanOrEqual(chunks, 4 * Parallel.workerCount)
        }
    }
}
