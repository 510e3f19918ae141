import ConvKit
import ConvPresent
import ConvScopeUI
import Foundation
import XCTest

/// The health view and the alarms in the header and status line, drawn from a real session's timeline.
final class HealthViewTests: XCTestCase {
    private func history(alarm: Bool) -> HealthHistory {
        var history = HealthHistory(layers: ["conv1", "conv2", "conv3", "fc1"], every: 4)
        for index in 0..<60 {
            let layers = (0..<4).map { layer -> LayerHealth in
                var gradients = [Int](repeating: 0, count: HealthHistogram.binCount)
                gradients[10 + layer + index / 20] = 90
                gradients[5] = 10
                return LayerHealth(
                    weightNorm: 2, gradientNorm: Float(layer + 1) * 0.1 * (index == 40 ? 50 : 1), updateRatio: 1e-3 * Float(layer + 1),
                    deadShare: layer == 2 ? 0.7 : 0.05, zeroFilterShare: 0, weights: .empty, gradients: HealthHistogram(counts: gradients),
                    activations: .empty)
            }
            history.records.append(HealthRecord(step: (index + 1) * 4, loss: 1, learningRate: 0.1, gradientNorm: 1, layers: layers))
        }
        if alarm {
            let dead = HealthAlarm(kind: .deadUnits(share: 0.7, zeroFilters: 0.1), layer: "conv3", step: 240)
            history.alarms = [dead]
            history.log(dead)
        }
        return history
    }

    func testStripsHaveARowPerLayerAndTheSelectedLayersDistributionAndCurve() {
        var grid = CellGrid(width: 78, height: 18)
        HealthPanel.draw(
            history(alarm: true), selectedLayer: "conv2", layerOrder: ["conv1", "relu1", "conv2", "relu2", "conv3", "fc1"],
            metric: .gradientNorm, quantity: .gradients, into: &grid, in: grid.bounds)
        let lines = grid.lines
        XCTAssertTrue(lines[0].contains("h grad norm"), lines[0])
        XCTAssertTrue(lines[0].contains("60 records, every 4 steps"), lines[0])
        XCTAssertTrue(lines[1].contains("conv3: 70% of units dead"), lines[1])
        for name in ["conv1", "conv2", "conv3", "fc1"] {
            let row = try! XCTUnwrap(lines.firstIndex { $0.contains(name) && $0.contains("█") }, name)
            XCTAssertGreaterThanOrEqual(lines[row].filter { $0 == "█" }.count, 60, "a column or more per record: \(lines[row])")
        }
        XCTAssertTrue(lines.contains { $0.contains("▸conv2") }, "the selected layer is marked")
        XCTAssertTrue(lines.contains { $0.hasPrefix("conv2 at step 240") }, lines.joined(separator: "\n"))
        XCTAssertTrue(lines.contains { $0.contains("gradients |x| over steps") })
        XCTAssertGreaterThan(grid.cells.filter { $0.glyph == "▀" }.count, 60, "the distribution as a half-block heat map")
        XCTAssertTrue(grid.cells.contains { (0x2801...0x28FF).contains($0.glyph.value) }, "the metric's curve in Braille")
        // The spike at record 40 stands out in conv1's strip: one or two columns of another colour.
        let row = lines.firstIndex { $0.contains("conv1") && $0.contains("█") }!
        let colours = (0..<grid.width).filter { grid[$0, row].glyph == "█" }.map { grid[$0, row].foreground }
        let usual = colours[0]
        XCTAssertTrue((1...2).contains(colours.filter { $0 != usual }.count), "\(colours)")
    }

    func testAListLayerWithoutWeightsFollowsTheWeightLayerBeforeIt() {
        let order = ["conv1", "relu1", "maxpool1", "conv2", "res1", "res1.conv1"]
        XCTAssertEqual(HealthPanel.trackedIndex(of: "relu1", in: ["conv1", "conv2", "res1.conv1"], order: order), 0)
        XCTAssertEqual(HealthPanel.trackedIndex(of: "conv2", in: ["conv1", "conv2", "res1.conv1"], order: order), 1)
        XCTAssertEqual(HealthPanel.trackedIndex(of: "res1", in: ["res1.conv1"], order: order), 0)
    }

    func testEmptyAndOffHistoriesSaySo() {
        var grid = CellGrid(width: 78, height: 18)
        HealthPanel.draw(HealthHistory(), selectedLayer: "conv1", layerOrder: [], metric: .gradientNorm, quantity: .weights,
                         into: &grid, in: grid.bounds)
        XCTAssertTrue(grid.lines[1].contains("no health records yet"))
        HealthPanel.draw(HealthHistory(), selectedLayer: "conv1", layerOrder: [], metric: .gradientNorm, quantity: .weights,
                         recordingOff: true, into: &grid, in: grid.bounds)
        XCTAssertTrue(grid.lines[1].contains("--health-every 0"))
    }

    func testTheLiveSessionsTimelineFitsEightyByTwentyFourWithAlarmsInHeaderAndStatusLine() throws {
        let fixture = try AppFixture()
        fixture.train(steps: 3)
        var model = fixture.makeModel()
        var snapshot = fixture.session.snapshot
        XCTAssertEqual(snapshot.health.layers, ["conv1", "conv2", "conv3", "fc1"])
        XCTAssertEqual(snapshot.health.records.map(\.step), [1, 2, 3], "4 steps an epoch: a record per step")
        _ = model.handle(.character("7"), layout: ScreenLayout(width: 80, height: 24))
        XCTAssertEqual(model.selectedTab, .health)
        var grid = AppScreen.render(model: &model, snapshot: snapshot, insight: nil, width: 80, height: 24)
        XCTAssertTrue(grid.lines[3].contains("Health"), grid.lines[3])
        XCTAssertTrue(grid.lines.contains { $0.contains("conv3") && $0.contains("█") }, grid.lines.joined(separator: "\n"))

        // An alarm raised after the app has seen the history goes to the status line and the header.
        let dead = HealthAlarm(kind: .deadUnits(share: 0.8, zeroFilters: 0.5), layer: "conv2", step: 3)
        snapshot.health.alarms = [dead]
        snapshot.health.log(dead)
        _ = model.observe(snapshot)
        XCTAssertEqual(model.status?.isError, true)
        XCTAssertTrue(model.status?.text.contains("health alarm: step 3: conv2: 80% of units dead") == true, "\(String(describing: model.status))")
        grid = AppScreen.render(model: &model, snapshot: snapshot, insight: nil, width: 80, height: 24)
        XCTAssertTrue(grid.lines[0].contains("⚠ conv2 dead 80%"), grid.lines[0])
        XCTAssertTrue(grid.lines[23].contains("health alarm"), grid.lines[23])
        XCTAssertTrue(grid.lines[0].contains("PAUSED"), "the run state stays")
    }

    func testKeysCycleTheStripMetricAndTheDistribution() throws {
        let fixture = try AppFixture()
        var model = fixture.makeModel()
        let layout = ScreenLayout(width: 80, height: 24)
        XCTAssertEqual(model.healthMetric, .gradientNorm)
        _ = model.handle(.character("h"), layout: layout)
        XCTAssertEqual(model.healthMetric, .updateRatio)
        XCTAssertEqual(model.healthQuantity, .gradients)
        _ = model.handle(.character("H"), layout: layout)
        XCTAssertEqual(model.healthQuantity, .activations)
    }
}
