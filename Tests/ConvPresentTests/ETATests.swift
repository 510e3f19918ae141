import ConvKit
import ConvPresent
import XCTest

/// One estimate of the time left, for the app's header and the command line's progress bar.
final class ETATests: XCTestCase {
    func testTheTimeLeftIsTheImagesLeftOverTheSpeed() {
        XCTAssertEqual(ETA.seconds(steps: 100, batchSize: 64, imagesPerSecond: 3200), 2)
        XCTAssertEqual(ETA.seconds(steps: 0, batchSize: 64, imagesPerSecond: 3200), 0, "nothing left is no time left")
        XCTAssertEqual(durationText(ETA.seconds(steps: 3900, batchSize: 512, imagesPerSecond: 4096)), "8:08")
    }

    func testAnUnknownSpeedOrLengthGivesNoEstimate() {
        XCTAssertNil(ETA.seconds(steps: 100, batchSize: 64, imagesPerSecond: 0))
        XCTAssertNil(ETA.seconds(steps: 100, batchSize: 64, imagesPerSecond: .nan))
        XCTAssertNil(ETA.seconds(steps: 100, batchSize: 64, imagesPerSecond: .infinity))
        XCTAssertNil(ETA.seconds(steps: -4, batchSize: 64, imagesPerSecond: 100), "a watched run of unknown length")
        XCTAssertEqual(durationText(nil), "--:--")
    }
}
