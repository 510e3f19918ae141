import Foundation
import XCTest
import ConvKit

final class DataLocatorTests: XCTestCase {
    private var home = ""
    private var cached = ""
    private var elsewhere = ""

    override func setUpWithError() throws {
        home = try DataTestSupport.makeTemporaryDirectory("home")
        cached = (home as NSString).appendingPathComponent(".cache/convscope/cifar-10-batches-bin")
        elsewhere = (home as NSString).appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: home)
    }

    private func locator(_ environment: [String: String] = [:]) -> DataLocator {
        DataLocator(environment: environment, homeDirectory: home)
    }

    func testExplicitValueWinsOverEnvironmentAndCache() throws {
        try FileManager.default.createDirectory(atPath: cached, withIntermediateDirectories: true)
        let environment = ["CONVSCOPE_DATA": cached]
        XCTAssertEqual(try locator(environment).locate(explicit: elsewhere), .cifar10(directory: elsewhere))
        XCTAssertEqual(try locator(environment).locate(explicit: "synthetic", syntheticSeed: 9), .synthetic(seed: 9))
        XCTAssertEqual(try locator(environment).locate(explicit: "SYNTHETIC"), .synthetic(seed: 0))
        XCTAssertEqual(try locator().locate(explicit: "~/elsewhere"), .cifar10(directory: elsewhere))
    }

    func testEnvironmentComesBeforeCache() throws {
        try FileManager.default.createDirectory(atPath: cached, withIntermediateDirectories: true)
        XCTAssertEqual(try locator(["CONVSCOPE_DATA": elsewhere]).locate(explicit: nil), .cifar10(directory: elsewhere))
        XCTAssertEqual(try locator(["CONVSCOPE_DATA": "synthetic"]).locate(explicit: nil, syntheticSeed: 3), .synthetic(seed: 3))
        // An environment folder that does not exist falls through to the cache.
        let gone = elsewhere + "-gone"
        XCTAssertEqual(try locator(["CONVSCOPE_DATA": gone]).locate(explicit: nil), .cifar10(directory: cached))
        XCTAssertEqual(try locator().locate(explicit: nil), .cifar10(directory: cached))
    }

    func testHomeComesFromEnvironmentWhenNotGiven() {
        let located = DataLocator(environment: ["HOME": home])
        XCTAssertEqual(located.defaultDatasetDirectory, cached)
    }

    func testExplicitMissingFolderIsAnError() {
        let gone = elsewhere + "-gone"
        XCTAssertThrowsError(try locator().locate(explicit: gone)) { error in
            XCTAssertEqual(error as? DataError, .explicitPathMissing(path: gone))
            XCTAssertTrue("\(error)".contains(gone))
        }
    }

    func testNothingFoundListsPlacesAndNextSteps() {
        let gone = elsewhere + "-gone"
        XCTAssertThrowsError(try locator(["CONVSCOPE_DATA": gone]).locate(explicit: nil)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("CONVSCOPE_DATA=\(gone)"), text)
            XCTAssertTrue(text.contains(cached), text)
            XCTAssertTrue(text.contains("convscope download"), text)
            XCTAssertTrue(text.contains("--data synthetic"), text)
            XCTAssertFalse(text.contains("\n"))
        }
        XCTAssertThrowsError(try locator().locate(explicit: nil)) { error in
            XCTAssertTrue("\(error)".contains("CONVSCOPE_DATA (not set)"), "\(error)")
        }
    }
}
