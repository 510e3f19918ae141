import ConvKit
import ConvScopeUI
import XCTest

/// The app's range test (`L`) stops when the overlay closes, however soon after `L` that is.
final class LearningRateSearchTests: XCTestCase {
    /// `L` and at once Esc (the soak types a probe key right behind every key) cancels the test before
    /// its job has begun: it must not then run to its end in the background, holding a training copy.
    func testACancelTypedBeforeTheTestBeginsStopsIt() throws {
        let fixture = try AppFixture()
        let steps = 60
        // Rates low enough that the test never stops early on a diverging loss: only the cancel can stop it.
        let finder = LearningRateFinder(start: 1e-6, end: 1e-4, steps: steps)
        for _ in 0..<5 {
            let search = LearningRateSearch()
            search.start(session: fixture.session, dataset: fixture.dataset, finder: finder)
            search.cancel()
            search.finish()
            if let state = search.current {
                XCTAssertLessThan(state.points.count, steps, "a test cancelled at its start ran all its steps")
                XCTAssertNotNil(state.result, "the cancelled test has ended")
            }
        }
    }

    /// Left alone, the test runs its steps and ends with a result.
    func testAnUncancelledTestRunsToItsEnd() throws {
        let fixture = try AppFixture()
        let search = LearningRateSearch()
        search.start(session: fixture.session, dataset: fixture.dataset, finder: LearningRateFinder(start: 1e-6, end: 1e-4, steps: 12))
        fixture.waitFor { search.current?.result != nil }
        XCTAssertEqual(search.current?.points.count, 12)
        search.finish()
    }
}
