import XCTest
import ConvScopeUI

final class ScreenLayoutTests: XCTestCase {
    func testEightyByTwentyFourCollapsesIntoTabs() {
        let layout = ScreenLayout(width: 80, height: 24)
        XCTAssertEqual(layout.mode, .tabs)
        XCTAssertEqual(layout.header, Rect(x: 0, y: 0, width: 80, height: 2))
        XCTAssertEqual(layout.tabBar, Rect(x: 0, y: 2, width: 80, height: 1))
        XCTAssertEqual(layout.status, Rect(x: 0, y: 23, width: 80, height: 1))
        XCTAssertEqual(layout.tabPanels, Panel.allCases)
        for panel in Panel.allCases {
            XCTAssertEqual(layout.visiblePanels(selectedTab: panel), [panel: Rect(x: 0, y: 3, width: 80, height: 20)])
        }
    }

    func testTwoHundredBySixtyShowsEveryPanelWithoutOverlap() throws {
        let layout = ScreenLayout(width: 200, height: 60)
        XCTAssertEqual(layout.mode, .allPanels)
        XCTAssertEqual(layout.tabPanels, [.features, .compression, .health, .explain], "the four share one slot under a small tab bar")
        let tabBar = try XCTUnwrap(layout.tabBar)
        let body = Rect(x: 0, y: 2, width: 200, height: 57)
        for shared in layout.tabPanels {
            let panels = layout.visiblePanels(selectedTab: shared)
            XCTAssertEqual(Set(panels.keys), Set(Panel.allCases).subtracting(layout.tabPanels).union([shared]))
            var covered = tabBar.width * tabBar.height
            for (panel, rect) in panels {
                XCTAssertEqual(rect.intersection(body), rect, "\(panel) inside the body")
                XCTAssertGreaterThanOrEqual(rect.width, 30, "\(panel)")
                XCTAssertGreaterThanOrEqual(rect.height, 23, "\(panel)")
                XCTAssertTrue(rect.intersection(tabBar).isEmpty, "\(panel) under the tab bar")
                covered += rect.width * rect.height
                for (other, otherRect) in panels where other != panel {
                    XCTAssertTrue(rect.intersection(otherRect).isEmpty, "\(panel) overlaps \(other)")
                }
            }
            XCTAssertEqual(covered, body.width * body.height, "the panels and the tab bar tile the body")
        }
    }

    func testHundredTwentyByFortyKeepsTheLayerListBesideTheTabs() {
        let layout = ScreenLayout(width: 120, height: 40)
        XCTAssertEqual(layout.mode, .sidebarWithTabs)
        XCTAssertEqual(layout.tabPanels, [.curves, .features, .gradCAM, .confusion, .compression, .health, .explain])
        let panels = layout.visiblePanels(selectedTab: .gradCAM)
        XCTAssertEqual(Set(panels.keys), [.layers, .gradCAM])
        XCTAssertTrue(panels[.layers]!.intersection(panels[.gradCAM]!).isEmpty)
        XCTAssertEqual(panels[.layers]!.width + panels[.gradCAM]!.width, 120)
        XCTAssertEqual(Set(layout.visiblePanels(selectedTab: .layers).keys), [.layers, .curves], "no tab for layers: first tab shown")
    }

    func testThresholds() {
        XCTAssertEqual(ScreenLayout(width: 160, height: 45).mode, .allPanels)
        XCTAssertEqual(ScreenLayout(width: 159, height: 45).mode, .sidebarWithTabs)
        XCTAssertEqual(ScreenLayout(width: 200, height: 44).mode, .sidebarWithTabs)
        XCTAssertEqual(ScreenLayout(width: 100, height: 28).mode, .sidebarWithTabs)
        XCTAssertEqual(ScreenLayout(width: 99, height: 40).mode, .tabs)
        XCTAssertEqual(ScreenLayout(width: 120, height: 27).mode, .tabs)
        XCTAssertEqual(ScreenLayout(width: 60, height: 18).mode, .tabs)
    }

    func testTinyScreensAreTooSmall() {
        for (width, height) in [(59, 24), (80, 17), (0, 0), (1, 1), (20, 5)] {
            let layout = ScreenLayout(width: width, height: height)
            XCTAssertEqual(layout.mode, .tooSmall, "\(width)x\(height)")
            XCTAssertTrue(layout.visiblePanels(selectedTab: .curves).isEmpty)
        }
    }

    func testTooSmallMessageIsWrappedIntoTheScreen() {
        let layout = ScreenLayout(width: 30, height: 10)
        var grid = CellGrid(width: 30, height: 10, fill: Cell("#"))
        layout.drawTooSmallMessage(into: &grid)
        let text = grid.lines.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
        XCTAssertEqual(text, "Terminal too small: 30x10, ConvScope needs at least 60x18.")
        XCTAssertFalse(grid.lines.joined().contains("#"), "the old screen is cleared")

        var tiny = CellGrid(width: 3, height: 1)
        ScreenLayout(width: 3, height: 1).drawTooSmallMessage(into: &tiny)
        XCTAssertEqual(tiny.line(0).count, 3)
    }

    func testTabCycling() {
        let layout = ScreenLayout(width: 80, height: 24)
        XCTAssertEqual(layout.tab(after: .curves), .layers)
        XCTAssertEqual(layout.tab(after: .confusion), .compression)
        XCTAssertEqual(layout.tab(after: .compression), .health)
        XCTAssertEqual(layout.tab(after: .health), .explain)
        XCTAssertEqual(layout.tab(after: .explain), .curves)
        XCTAssertEqual(layout.tab(after: .curves, offset: -1), .explain)
        XCTAssertEqual(ScreenLayout(width: 200, height: 60).tab(after: .features), .compression)
        XCTAssertEqual(ScreenLayout(width: 200, height: 60).tab(after: .compression), .health)
        XCTAssertEqual(ScreenLayout(width: 200, height: 60).tab(after: .health), .explain)
        XCTAssertEqual(ScreenLayout(width: 200, height: 60).tab(after: .explain), .features)
    }
}
