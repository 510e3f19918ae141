import ConvKit
import ConvRender
import ConvScopeUI
import Foundation
import XCTest

final class ExporterTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = NSTemporaryDirectory() + "convscope-export-\(getpid())-\(UUID().uuidString)"
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: folder)
    }

    func testHeatmapStripIsWrittenUnderAGeneratedName() throws {
        let fixture = try AppFixture()
        fixture.train(steps: 2)
        let model = fixture.makeModel()
        let insight = fixture.insight(for: model)
        let path = try Exporter(directory: folder + "/new/sub").exportHeatmap(insight, classNames: model.classNames, step: 2)
        let className = model.classNames[insight.activationMap!.classIndex]
        XCTAssertEqual((path as NSString).lastPathComponent, "gradcam-conv1-\(className)-img0-step2.png")
        let image = try PNG.read(contentsOf: path)
        XCTAssertEqual(image.width, 3 * 256 + 2 * 8 + 16, "image | heatmap | overlay at 256 px with gaps and margins")
    }

    func testGridExportsFeatureMapsAndFiltersOfAConvolution() throws {
        let fixture = try AppFixture()
        var model = fixture.makeModel()
        let conv = try Exporter(directory: folder).exportGrid(fixture.insight(for: model), scope: .layer, step: 0)
        XCTAssertEqual(conv.map { ($0 as NSString).lastPathComponent }, ["features-conv1-img0-step0.png", "filters-conv1-step0.png"])
        for path in conv { XCTAssertGreaterThan(try PNG.read(contentsOf: path).width, 100) }

        _ = model.handle(.character("j"), layout: ScreenLayout(width: 80, height: 24))
        let relu = try Exporter(directory: folder).exportGrid(fixture.insight(for: model), scope: .map, step: 0)
        XCTAssertEqual(relu.map { ($0 as NSString).lastPathComponent }, ["features-relu1-img0-step0.png"])
    }

    func testAnUnwritableFolderIsAnErrorThatNamesIt() throws {
        let fixture = try AppFixture()
        let insight = fixture.insight(for: fixture.makeModel())
        XCTAssertThrowsError(try Exporter(directory: "/dev/null/exports").exportHeatmap(insight, classNames: [], step: 0)) { error in
            XCTAssertTrue("\(error)".contains("/dev/null/exports"), "\(error)")
        }
    }

    func testSlugsAreSafeFileNames() {
        XCTAssertEqual(Exporter.slug("res1.conv1"), "res1.conv1")
        XCTAssertEqual(Exporter.slug("h-stripes"), "h-stripes")
        XCTAssertEqual(Exporter.slug("a/b c"), "a_b_c")
    }
}
