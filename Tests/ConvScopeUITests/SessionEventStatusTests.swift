import ConvKit
import ConvScopeUI
import XCTest

/// The session publishes events as values; the app's status line shows each new one once, in
/// `SessionEventText`'s words.
final class SessionEventStatusTests: XCTestCase {
    func testTheAppShowsEachNewEventOnceAndTheSessionPublishesThem() throws {
        let fixture = try AppFixture()
        var model = fixture.makeModel()
        fixture.session.scaleLearningRate(by: 1.25)
        fixture.waitFor { fixture.session.snapshot.event != nil }
        XCTAssertEqual(fixture.session.snapshot.event, .learningRateScaled(scale: 1.25))
        _ = model.observe(fixture.session.snapshot)
        XCTAssertEqual(model.status, StatusMessage("learning rate x1.25 of the schedule"))
        model.status = nil
        _ = model.observe(fixture.session.snapshot)
        XCTAssertNil(model.status, "an event already shown is not shown again")

        // Training to the end publishes `.finished` with the run's epoch count.
        fixture.session.resume()
        fixture.waitFor { fixture.session.snapshot.state == .finished }
        XCTAssertEqual(fixture.session.snapshot.event, .finished(epochs: 2))
        _ = model.observe(fixture.session.snapshot)
        XCTAssertEqual(model.status, StatusMessage("training finished: 2 epochs; keep exploring, s saves"))
    }
}
