import ConvScopeUI
import Dispatch
import XCTest

/// Exports run off the UI thread: handing one over never waits for it.
final class BackgroundJobsTests: XCTestCase {
    func testRunReturnsWhileTheJobWaitsAndItsMessageArrivesOnceWhenItEnds() {
        let jobs = BackgroundJobs(label: "test.jobs")
        let gate = DispatchSemaphore(value: 0)
        // Should `run` wait for its job, the gate opens after 10 s so the test ends (and fails below).
        DispatchQueue.global().asyncAfter(deadline: .now() + 10) { gate.signal() }
        jobs.run {
            gate.wait()
            return StatusMessage("exported a.png")
        }
        XCTAssertEqual(jobs.finishedCount, 0, "run returned before its job could end")
        XCTAssertNil(jobs.takeMessage())
        gate.signal()
        jobs.finish()
        XCTAssertEqual(jobs.finishedCount, 1)
        XCTAssertEqual(jobs.takeMessage(), StatusMessage("exported a.png"))
        XCTAssertNil(jobs.takeMessage(), "each message is taken once")
    }

    func testJobsRunInOrderAndTheNewestMessageIsShown() {
        let jobs = BackgroundJobs(label: "test.jobs")
        jobs.run { StatusMessage("exported first.png") }
        jobs.run { StatusMessage("export failed: disk full", isError: true) }
        jobs.finish()
        XCTAssertEqual(jobs.finishedCount, 2)
        XCTAssertEqual(jobs.takeMessage(), StatusMessage("export failed: disk full", isError: true))
    }
}
