import ConvKit
import ConvScopeUI
import Foundation
import XCTest

/// The compression view: the lab measures compressed copies of a live session's weights, the keys
/// ask for them only where the view shows, and the panel draws the before/after table and the
/// per-layer sparsity bars.
final class CompressionViewTests: XCTestCase {
    private struct CompressionRowNotMeasured: Error {}

    private var fixture: AppFixture!
    private var lab: CompressionLab!

    override func setUpWithError() throws {
        fixture = try AppFixture()
        fixture.train(steps: 5)
        lab = CompressionLab(session: fixture.session, trainImages: fixture.dataset.train, testImages: fixture.dataset.test)
    }

    override func tearDown() {
        lab.finish()
        lab = nil
        fixture = nil
    }

    /// Waits until every row of the table is measured (or failed) and returns the results.
    private func settledResults() -> CompressionResults {
        fixture.waitFor(timeout: 60) { !lab.results.rows.isEmpty && lab.results.rows.allSatisfy { !$0.isPending } }
        return lab.results
    }

    private func measured(_ row: CompressionRow) throws -> ModelReport {
        guard case .measured(let report) = row.status else {
            // A failed measurement is a regression, never a skip.
            XCTFail("row \(row.label) was not measured: \(row.status)")
            throw CompressionRowNotMeasured()
        }
        return report
    }

    func testPruningACopyMeasuresItBesideTheModelAsTrainedAndLeavesTheWeightsAlone() throws {
        let version = fixture.session.snapshot.weightsVersion
        XCTAssertTrue(lab.request(.magnitudePruning(amount: 0.3), weightsVersion: version))
        XCTAssertFalse(lab.request(.magnitudePruning(amount: 0.3), weightsVersion: version), "the same request twice is refused")
        let results = settledResults()
        XCTAssertEqual(results.rows.map(\.label), ["float32", "pruned 30%"])
        XCTAssertEqual(results.rows.map(\.weightsVersion), [version, version])

        let float = try measured(results.rows[0]), pruned = try measured(results.rows[1])
        let (network, _) = fixture.session.copyNetwork()
        let weights = network.parameters.filter(\.isWeight)
        let removed = weights.map { Int((Float($0.count) * 0.3).rounded()) }.reduce(0, +)
        XCTAssertEqual(float.parameters, network.parameterCount)
        XCTAssertEqual(float.nonZeroParameters, network.parameterCount, "trained weights have no exact zeros")
        XCTAssertEqual(pruned.nonZeroParameters, network.parameterCount - removed)
        for layer in results.rows[1].sparsity {
            XCTAssertEqual(layer.sparsity, 0.3, accuracy: 0.01, layer.parameter)
        }
        XCTAssertTrue(weights.allSatisfy { $0.values.allSatisfy { $0 != 0 } }, "the session's own weights are not pruned")
        XCTAssertEqual(results.newestCompressed?.label, "pruned 30%")
    }

    func testInt8CopyIsSmallerAndWritesACheckpointThatLoads() throws {
        XCTAssertTrue(lab.request(.int8(calibrationImages: 64), weightsVersion: fixture.session.snapshot.weightsVersion))
        let results = settledResults()
        let float = try measured(results.rows[0]), int8 = try measured(results.rows[1])
        XCTAssertEqual(int8.parameters, float.parameters)
        XCTAssertLessThan(int8.modelBytes, float.modelBytes / 3, "int8 weights take a quarter of the float bytes, plus scales")
        XCTAssertEqual(int8.accuracy, float.accuracy, accuracy: 0.1)

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("compression-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let newest = try XCTUnwrap(lab.newestCheckpoint())
        let path = try Exporter(directory: folder).exportCheckpoint(newest.checkpoint, method: newest.method, step: newest.weightsVersion)
        XCTAssertTrue(path.hasSuffix("compressed-int8-step\(newest.weightsVersion).safetensors"), path)
        let loaded = try Classifier.load(path)
        guard case .int8 = loaded.classifier else { return XCTFail("the written checkpoint is not int8") }
        XCTAssertEqual(loaded.metadata["compression"], "int8")
    }

    func testCompressionKeysAskForMeasurementsOnlyInTheCompressionView() throws {
        var model = fixture.makeModel()
        let layout = ScreenLayout(width: 80, height: 24)
        XCTAssertEqual(model.handle(.character("p"), layout: layout), [])
        XCTAssertEqual(model.status?.text.contains("press 6"), true, model.status?.text ?? "")
        _ = model.handle(.character("6"), layout: layout)
        XCTAssertEqual(model.selectedTab, .compression)
        XCTAssertEqual(model.handle(.character("p"), layout: layout), [.compress(.magnitudePruning(amount: 0.3))])
        XCTAssertEqual(model.handle(.character("P"), layout: layout), [.compress(.filterPruning(fraction: 0.25))])
        XCTAssertEqual(model.handle(.character("i"), layout: layout), [.compress(.int8(calibrationImages: 256))])
        XCTAssertEqual(model.handle(.character("w"), layout: layout), [.writeCompressed])
    }

    func testPanelDrawsTheTableAndOneSparsityBarPerLayer() throws {
        XCTAssertTrue(lab.request(.magnitudePruning(amount: 0.3), weightsVersion: fixture.session.snapshot.weightsVersion))
        let results = settledResults()
        var model = fixture.makeModel()
        _ = model.handle(.character("6"), layout: ScreenLayout(width: 80, height: 24))
        let grid = AppScreen.render(
            model: &model, snapshot: fixture.session.snapshot, insight: nil, compression: results, width: 80, height: 24)
        let lines = grid.lines
        XCTAssertTrue(lines[3].contains("Compression"), lines[3])
        let header = try XCTUnwrap(lines.firstIndex { $0.contains("model") && $0.contains("test acc") })
        XCTAssertTrue(lines[header + 1].contains("float32"), lines[header + 1])
        XCTAssertTrue(lines[header + 2].contains("pruned 30%"), lines[header + 2])
        XCTAssertNotNil(lines.firstIndex { $0.contains("zero weights per layer: pruned 30%") })
        for layer in ["conv1", "conv2", "conv3", "fc1"] {
            let row = try XCTUnwrap(lines.lastIndex { $0.contains(layer + " ") && $0.contains("%") }, layer)
            XCTAssertTrue(lines[row].contains("30.") || lines[row].contains("29."), lines[row])
            let cells = (0..<80).map { grid[$0, row] }
            XCTAssertGreaterThan(cells.filter { $0.glyph == "█" }.count, 3, "a bar about 30% long: \(lines[row])")
        }

        // On a large screen the view shares the feature maps' slot under its own tab bar.
        var large = fixture.makeModel()
        _ = large.handle(.character("6"), layout: ScreenLayout(width: 200, height: 60))
        let wide = AppScreen.render(
            model: &large, snapshot: fixture.session.snapshot, insight: nil, compression: results, width: 200, height: 60)
        let text = wide.lines.joined(separator: "\n")
        for title in ["Layers (j/k)", "Curves", "Confusion", "3 Features", "6 Compression", "pruned 30%"] {
            XCTAssertTrue(text.contains(title), title)
        }
    }
}
