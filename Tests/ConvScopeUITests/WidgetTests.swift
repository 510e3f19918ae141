import XCTest
import ConvScopeUI

final class BarChartTests: XCTestCase {
    func testBarsUseEighthBlocks() {
        XCTAssertEqual(BarChart.bar(value: 0.5, width: 4), "██  ")
        XCTAssertEqual(BarChart.bar(value: 1, width: 3), "███")
        XCTAssertEqual(BarChart.bar(value: 0.3, width: 2), "▋ ", "0.3 * 16 eighths = 4.8, rounded to 5")
        XCTAssertEqual(BarChart.bar(value: 1.0 / 16, width: 2), "▏ ")
        XCTAssertEqual(BarChart.bar(value: 0.25, width: 2), "▌ ")
        XCTAssertEqual(BarChart.bar(value: 0.01, width: 2), "  ")
        XCTAssertEqual(BarChart.bar(value: 7, width: 2), "██")
        XCTAssertEqual(BarChart.bar(value: -1, width: 2), "  ")
        XCTAssertEqual(BarChart.bar(value: .nan, width: 2), "  ")
    }

    func testRowsShowLabelBarAndPercentage() {
        var grid = CellGrid(width: 24, height: 3)
        BarChart(rows: [
            BarRow(label: "cat", value: 0.75, color: .red),
            BarRow(label: "dog", value: 0.125, color: .blue),
        ]).draw(into: &grid, in: grid.bounds)
        // Label column 3 wide, value column 5 wide ("75.0%"), bar 24 - 3 - 5 - 2 = 14 cells.
        XCTAssertEqual(grid.line(0), "cat " + "██████████▌" + String(repeating: " ", count: 3 + 1) + "75.0%")
        XCTAssertEqual(grid.line(1), "dog " + "█▊" + String(repeating: " ", count: 12 + 1) + "12.5%")
        XCTAssertEqual(grid[4, 0].foreground, .red)
        XCTAssertEqual(grid[4, 1].foreground, .blue)
        XCTAssertEqual(grid.line(2), String(repeating: " ", count: 24))
    }
}

final class ListSelectionTests: XCTestCase {
    func testMovingPastTheBottomScrollsJustEnough() {
        var selection = ListSelection(itemCount: 20, visibleRows: 5)
        for _ in 0..<7 { selection.move(by: 1) }
        XCTAssertEqual(selection.selectedIndex, 7)
        XCTAssertEqual(selection.scrollOffset, 3)
        selection.move(by: -5)
        XCTAssertEqual(selection.selectedIndex, 2)
        XCTAssertEqual(selection.scrollOffset, 2)
    }

    func testPagesAndEnds() {
        var selection = ListSelection(itemCount: 20, visibleRows: 5)
        selection.pageDown()
        XCTAssertEqual(selection.selectedIndex, 5)
        selection.selectLast()
        XCTAssertEqual(selection.selectedIndex, 19)
        XCTAssertEqual(selection.scrollOffset, 15)
        selection.move(by: 10)
        XCTAssertEqual(selection.selectedIndex, 19)
        selection.selectFirst()
        XCTAssertEqual(selection.scrollOffset, 0)
        selection.move(by: -1)
        XCTAssertEqual(selection.selectedIndex, 0)
    }

    func testShrinkingListKeepsSelectionInRange() {
        var selection = ListSelection(itemCount: 20, selectedIndex: 18, visibleRows: 5)
        selection.update(itemCount: 10, visibleRows: 5)
        XCTAssertEqual(selection.selectedIndex, 9)
        XCTAssertEqual(selection.scrollOffset, 5)
        selection.update(itemCount: 0, visibleRows: 5)
        XCTAssertEqual(selection.selectedIndex, 0)
        XCTAssertEqual(selection.scrollOffset, 0)
    }

    func testNavigationKeys() {
        var selection = ListSelection(itemCount: 10, visibleRows: 4)
        XCTAssertTrue(selection.handle(.character("j")))
        XCTAssertTrue(selection.handle(.down))
        XCTAssertEqual(selection.selectedIndex, 2)
        XCTAssertTrue(selection.handle(.character("k")))
        XCTAssertEqual(selection.selectedIndex, 1)
        XCTAssertTrue(selection.handle(.end))
        XCTAssertEqual(selection.selectedIndex, 9)
        XCTAssertFalse(selection.handle(.character("x")))
        XCTAssertEqual(selection.selectedIndex, 9)
    }
}

final class TableTests: XCTestCase {
    private let table = Table(columns: [Table.Column("#", width: 2, alignment: .trailing), Table.Column("layer")],
                              rows: (0..<12).map { ["\($0)", "layer \($0)"] })

    func testSelectedRowIsHighlightedAndScrolledIntoView() {
        var grid = CellGrid(width: 16, height: 5)
        var selection = ListSelection(itemCount: 12)
        table.draw(into: &grid, in: grid.bounds, selection: &selection)
        XCTAssertEqual(selection.visibleRows, 4)
        selection.select(6)
        table.draw(into: &grid, in: grid.bounds, selection: &selection)
        XCTAssertEqual(selection.scrollOffset, 3)
        XCTAssertTrue(grid.line(0).hasPrefix(" # layer"))
        XCTAssertTrue(grid.line(1).hasPrefix(" 3 layer 3"))
        XCTAssertTrue(grid.line(4).hasPrefix(" 6 layer 6"))
        XCTAssertTrue(grid[0, 4].attributes.contains(.reverse))
        XCTAssertTrue(grid[10, 4].attributes.contains(.reverse), "the whole row is highlighted")
        XCTAssertFalse(grid[0, 3].attributes.contains(.reverse))
    }

    func testScrollBarAppearsOnlyWhenRowsOverflow() {
        var grid = CellGrid(width: 16, height: 5)
        var selection = ListSelection(itemCount: 12)
        table.draw(into: &grid, in: grid.bounds, selection: &selection)
        XCTAssertEqual(grid[15, 1].glyph, "█", "thumb at the top")
        XCTAssertEqual(grid[15, 4].glyph, "│")

        var roomy = CellGrid(width: 16, height: 20)
        table.draw(into: &roomy, in: roomy.bounds, selection: &selection)
        XCTAssertFalse((1..<13).contains { roomy[15, $0].glyph == "█" || roomy[15, $0].glyph == "│" })
    }

    func testPlainListWithoutHeader() {
        var grid = CellGrid(width: 6, height: 2)
        Table(items: ["alpha", "beta"]).draw(into: &grid, in: grid.bounds)
        XCTAssertEqual(grid.lines, ["alpha ", "beta  "])
    }

    func testFlexibleColumnsShareTheRest() {
        let widths = Table(columns: [Table.Column("a", width: 4), Table.Column("b"), Table.Column("c")], rows: [])
            .columnWidths(total: 20)
        XCTAssertEqual(widths, [4, 7, 7])
    }
}

final class FrameTests: XCTestCase {
    func testBorderTitleAndInside() {
        var grid = CellGrid(width: 12, height: 4)
        let inside = Frame(title: "Loss").draw(into: &grid, in: grid.bounds)
        XCTAssertEqual(inside, Rect(x: 1, y: 1, width: 10, height: 2))
        XCTAssertEqual(grid.lines, ["╭─ Loss ───╮", "│          │", "│          │", "╰──────────╯"])
        var focused = CellGrid(width: 4, height: 3)
        Frame(isFocused: true).draw(into: &focused, in: focused.bounds)
        XCTAssertEqual(focused.lines, ["┏━━┓", "┃  ┃", "┗━━┛"])
    }
}

final class HelpOverlayTests: XCTestCase {
    private let bindings = [
        KeyBinding("q", "quit"), KeyBinding("?", "toggle this help"), KeyBinding("Tab", "next panel"),
        KeyBinding("j / k", "move the selection"), KeyBinding("Space", "pause or resume training"),
    ]

    func testEveryKeyAndDescriptionIsShownInACentredBox() {
        var grid = CellGrid(width: 80, height: 24)
        let box = HelpOverlay(bindings: bindings).draw(into: &grid, in: grid.bounds)
        let text = grid.lines.joined(separator: "\n")
        for binding in bindings {
            XCTAssertTrue(grid.lines.contains { $0.contains(binding.key) && $0.contains(binding.description) }, binding.key)
        }
        XCTAssertTrue(text.contains("Keys"))
        XCTAssertEqual(box.height, bindings.count + 2)
        XCTAssertEqual(box.x, (80 - box.width) / 2)
        XCTAssertEqual(box.y, (24 - box.height) / 2)
    }

    func testManyBindingsFlowIntoColumnsSoEveryKeyStaysVisible() {
        let many = (1...30).map { KeyBinding("k\($0)", "action number \($0)") }
        var grid = CellGrid(width: 80, height: 18)
        let box = HelpOverlay(bindings: many, footer: "Esc closes").draw(into: &grid, in: grid.bounds)
        XCTAssertLessThanOrEqual(box.height, 18)
        let words = Set(grid.lines.joined(separator: " ").split(separator: " ").map(String.init))
        for binding in many {
            XCTAssertTrue(words.contains(binding.key), "\(binding.key) missing")
        }
        XCTAssertTrue(grid.lines.contains { $0.contains("Esc closes") })
    }

    func testTinyScreensNeitherCrashNorSpill() {
        for (width, height) in [(0, 0), (3, 2), (10, 3), (12, 4)] {
            var grid = CellGrid(width: 20, height: 10, fill: Cell("."))
            let region = Rect(x: 2, y: 2, width: width, height: height)
            HelpOverlay(bindings: bindings, footer: "Esc closes").draw(into: &grid, in: region)
            for y in 0..<10 {
                for x in 0..<20 where !region.contains(x: x, y: y) {
                    XCTAssertEqual(grid[x, y].glyph, ".", "\(width)x\(height) spilled at (\(x), \(y))")
                }
            }
        }
    }

    func testOverlayCoversWhatWasBehindIt() {
        var grid = CellGrid(width: 40, height: 10, fill: Cell("x"))
        let box = HelpOverlay(bindings: [KeyBinding("q", "quit")]).draw(into: &grid, in: grid.bounds)
        XCTAssertFalse(grid.text(in: box).joined().contains("x"))
        XCTAssertEqual(grid[0, 0].glyph, "x")
    }
}

final class StatusLineAndTabsTests: XCTestCase {
    func testStatusLineKeepsTheRightTextAndShortensTheLeft() {
        var grid = CellGrid(width: 30, height: 1)
        StatusLine(left: "training epoch 3 of 30, step 1200", right: "? help").draw(into: &grid, in: grid.bounds)
        XCTAssertTrue(grid.line(0).hasSuffix("? help "))
        XCTAssertTrue(grid.line(0).hasPrefix(" training epoch 3 of …"), grid.line(0))
        XCTAssertEqual(grid[29, 0].background, Theme.standard.statusBar.background)
    }

    func testSelectedTabIsReversedAndEveryTabFits() {
        var grid = CellGrid(width: 40, height: 1)
        Tabs(titles: ["Curves", "Layers", "Activations"], selectedIndex: 1).draw(into: &grid, in: grid.bounds)
        XCTAssertEqual(grid.line(0), " Curves │ Layers │ Activations ".padded(toWidth: 40))
        XCTAssertTrue(grid[10, 0].attributes.contains(.reverse))
        XCTAssertFalse(grid[2, 0].attributes.contains(.reverse))

        var narrow = CellGrid(width: 20, height: 1)
        Tabs(titles: ["Curves", "Layers", "Activations"], selectedIndex: 0).draw(into: &narrow, in: narrow.bounds)
        XCTAssertEqual(narrow.line(0), "Curves│Layers│Activ…", "the spaces go before the titles are shortened")
        var narrower = CellGrid(width: 14, height: 1)
        Tabs(titles: ["Curves", "Layers", "Activations"], selectedIndex: 0).draw(into: &narrower, in: narrower.bounds)
        XCTAssertEqual(narrower.line(0), "Cur…│Lay…│Act…")
    }
}

final class KeyTests: XCTestCase {
    func testCharacterCodes() {
        XCTAssertEqual(Key(characterCode: 9), .tab)
        XCTAssertEqual(Key(characterCode: 10), .enter)
        XCTAssertEqual(Key(characterCode: 13), .enter)
        XCTAssertEqual(Key(characterCode: 27), .escape)
        XCTAssertEqual(Key(characterCode: 127), .backspace)
        XCTAssertEqual(Key(characterCode: 113), .character("q"))
        XCTAssertEqual(Key(characterCode: 0x00E9), .character("é"))
        XCTAssertEqual(Key(characterCode: 12), .character("\u{0C}"), "Ctrl-L")
    }
}
