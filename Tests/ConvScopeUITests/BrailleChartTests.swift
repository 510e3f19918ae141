import XCTest
import ConvScopeUI

final class BrailleCanvasTests: XCTestCase {
    func testEachDotLightsItsBrailleBit() {
        // (column, row) inside the cell -> Braille dot number -> code point.
        let expected: [(Int, Int, UInt32)] = [
            (0, 0, 0x2801), (0, 1, 0x2802), (0, 2, 0x2804), (0, 3, 0x2840),
            (1, 0, 0x2808), (1, 1, 0x2810), (1, 2, 0x2820), (1, 3, 0x2880),
        ]
        for (x, y, code) in expected {
            var canvas = BrailleCanvas(columns: 1, rows: 1)
            canvas.setDot(x: x, y: y)
            XCTAssertEqual(canvas.glyph(column: 0, row: 0).value, code, "dot (\(x), \(y))")
        }
    }

    func testLineFromBottomLeftToTopRightOfOneCell() {
        var canvas = BrailleCanvas(columns: 1, rows: 1)
        canvas.drawLine(fromX: 0, y: 3, toX: 1, y: 0)
        // Dots (0,3) (0,2) (1,1) (1,0): bits 0x40 | 0x04 | 0x10 | 0x08.
        XCTAssertEqual(canvas.glyph(column: 0, row: 0), "\u{285C}")
    }

    func testDotsOutsideTheCanvasAreIgnoredAndOnlyLitCellsAreCopied() {
        var canvas = BrailleCanvas(columns: 2, rows: 1)
        canvas.setDot(x: -1, y: 0)
        canvas.setDot(x: 4, y: 0)
        canvas.setDot(x: 3, y: 3, color: .red)
        var grid = CellGrid(width: 3, height: 1, fill: Cell("."))
        canvas.draw(into: &grid, x: 1, y: 0)
        XCTAssertEqual(grid.line(0), "..\u{2880}")
        XCTAssertEqual(grid[2, 0].foreground, .red)
    }
}

final class AxisTicksTests: XCTestCase {
    func testLinearTicksAreNiceNumbers() {
        let ticks = AxisTicks.linear(minimum: 0.1, maximum: 1.7, targetCount: 5, snapToTicks: true)
        XCTAssertEqual(ticks.labels, ["0.0", "0.5", "1.0", "1.5", "2.0"])
        XCTAssertEqual(ticks.lower, 0)
        XCTAssertEqual(ticks.upper, 2)
    }

    func testUnsnappedTicksStayInsideTheRange() {
        let ticks = AxisTicks.linear(minimum: 3, maximum: 1234, targetCount: 8, snapToTicks: false)
        XCTAssertEqual(ticks.lower, 3)
        XCTAssertEqual(ticks.upper, 1234)
        XCTAssertEqual(ticks.labels, ["200", "400", "600", "800", "1000", "1200"])
    }

    func testConstantRangeIsWidened() {
        let ticks = AxisTicks.linear(minimum: 3, maximum: 3, targetCount: 4, snapToTicks: true)
        XCTAssertLessThan(ticks.lower, 3)
        XCTAssertGreaterThan(ticks.upper, 3)
        XCTAssertGreaterThanOrEqual(ticks.values.count, 2)
        XCTAssertFalse(ticks.labels.contains("-0.0"))
    }

    func testLogTicksUseDecadesOverWideRanges() {
        let ticks = AxisTicks.logarithmic(minimum: 0.05, maximum: 2.3)
        XCTAssertEqual(ticks.lower, 0.05, accuracy: 1e-12)
        XCTAssertEqual(ticks.upper, 5, accuracy: 1e-12)
        XCTAssertEqual(ticks.labels, ["0.1", "1"])
    }

    func testLogTicksUseOneTwoFiveOverNarrowRanges() {
        XCTAssertEqual(AxisTicks.logarithmic(minimum: 0.5, maximum: 2).labels, ["0.5", "1", "2"])
        XCTAssertEqual(AxisTicks.logarithmic(minimum: 1.1, maximum: 1.3).labels, ["1", "2"])
    }
}

final class BrailleChartTests: XCTestCase {
    /// A chart with no header, y labels one character wide, drawn into a grid of its own size.
    private func render(_ chart: BrailleChart, width: Int, height: Int) -> (CellGrid, BrailleChart.Geometry) {
        var grid = CellGrid(width: width, height: height)
        let geometry = chart.draw(into: &grid, in: grid.bounds)
        return (grid, try! XCTUnwrap(geometry))
    }

    func testRisingDiagonalLightsTheDiagonalDots() {
        let chart = BrailleChart(series: [ChartSeries(label: "up", color: .green, values: (0..<8).map(Double.init))],
                                 yRange: 0...7, showLegend: false)
        let (grid, geometry) = render(chart, width: 6, height: 4)
        XCTAssertEqual(geometry.plot, Rect(x: 2, y: 0, width: 4, height: 2))
        // 8 x 8 dots; value i is at dot (i, 7 - i).
        XCTAssertEqual(grid.text(in: geometry.plot), ["  \u{2860}\u{280A}", "\u{2860}\u{280A}  "])
        XCTAssertEqual(grid[4, 0].foreground, .green)
    }

    func testLogScaleMakesAGeometricSeriesStraight() {
        let values = (0..<8).map { pow(10, Double($0) * 2 / 7) }  // 1 ... 100
        let chart = BrailleChart(series: [ChartSeries(label: "loss", color: .red, values: values)],
                                 logScale: true, yRange: 1...100, showLegend: false)
        let (grid, geometry) = render(chart, width: 8, height: 4)
        XCTAssertEqual(geometry.plot.width, 4)
        XCTAssertEqual(grid.text(in: geometry.plot), ["  \u{2860}\u{280A}", "\u{2860}\u{280A}  "])
        XCTAssertEqual(geometry.yTicks.labels, ["1", "10", "100"])
    }

    func testYAxisShowsNiceTickLabelsOnTheirRows() {
        let values = [0.1, 0.9, 1.7, 0.4]
        let chart = BrailleChart(series: [ChartSeries(label: "loss", color: .red, values: values)], showLegend: false)
        let (grid, geometry) = render(chart, width: 40, height: 11)  // 9 plot rows: one per half unit
        XCTAssertEqual(geometry.yTicks.labels, ["0.0", "0.5", "1.0", "1.5", "2.0"])
        XCTAssertTrue(grid.line(geometry.plot.y).hasPrefix("2.0┤"))
        XCTAssertTrue(grid.line(geometry.plot.maxY - 1).hasPrefix("0.0┤"))
        XCTAssertTrue(grid.line(geometry.plot.y + 4).hasPrefix("1.0┤"))
        XCTAssertTrue(grid.line(geometry.plot.maxY).hasPrefix("   └┬──"), "the first x tick sits on the corner's right")
    }

    func testXAxisLabelsStepsAndNamesTheAxis() {
        let points = (0...100).map { ChartPoint(x: Double($0), y: Double($0 % 7)) }
        let chart = BrailleChart(series: [ChartSeries(label: "loss", color: .red, points: points)], xAxisName: "step", showLegend: false)
        let (grid, geometry) = render(chart, width: 60, height: 12)
        let labelRow = grid.line(geometry.plot.maxY + 1)
        XCTAssertEqual(geometry.xTicks.labels, ["0", "20", "40", "60", "80", "100"])
        for label in ["0", "20", "40", "60", "80"] {
            XCTAssertTrue(labelRow.contains(label), "\(label) in \(labelRow)")
        }
        XCTAssertTrue(labelRow.hasSuffix("step"))
        XCTAssertEqual(grid.line(geometry.plot.maxY).filter { $0 == "┬" }.count, 6)
    }

    func testLegendShowsEverySeriesInItsColour() {
        let chart = BrailleChart(series: [
            ChartSeries(label: "train", color: .blue, values: [1, 2]),
            ChartSeries(label: "val", color: .yellow, values: [2, 1]),
        ], title: "loss")
        var grid = CellGrid(width: 40, height: 10)
        chart.draw(into: &grid, in: grid.bounds)
        let header = grid.line(0)
        XCTAssertTrue(header.hasPrefix("loss"))
        XCTAssertTrue(header.hasSuffix("■ train  ■ val"))
        let trainMarker = header.distance(from: header.startIndex, to: header.firstIndex(of: "■")!)
        XCTAssertEqual(grid[trainMarker, 0].foreground, .blue)
    }

    func testEmptyChartSaysSoAndStillDrawsAxes() {
        let chart = BrailleChart(series: [ChartSeries(label: "loss", color: .red, values: [])], showLegend: false)
        let (grid, geometry) = render(chart, width: 30, height: 8)
        XCTAssertTrue(grid.lines.contains { $0.contains("no data yet") })
        XCTAssertTrue(grid.line(geometry.plot.maxY).contains("└"))
    }

    func testNonFiniteValuesAreSkippedAndBreakTheLine() {
        let chart = BrailleChart(series: [ChartSeries(label: "x", color: .red, values: [0, .nan, .infinity, 3])],
                                 yRange: 0...3, showLegend: false)
        let (grid, geometry) = render(chart, width: 6, height: 4)
        let lit = litDots(grid, in: geometry.plot)
        XCTAssertEqual(lit, 2, "only the two finite points, no line through the gap")
    }

    func testLogScaleSkipsNonPositiveValues() {
        let chart = BrailleChart(series: [ChartSeries(label: "x", color: .red, values: [-1, 0, 0.5, 2])], logScale: true, showLegend: false)
        let (grid, geometry) = render(chart, width: 30, height: 8)
        XCTAssertGreaterThan(geometry.yTicks.lower, 0)
        XCTAssertGreaterThan(litDots(grid, in: geometry.plot), 1)
    }

    func testSinglePointIsDrawn() {
        let chart = BrailleChart(series: [ChartSeries(label: "x", color: .red, values: [0.7])], showLegend: false)
        let (grid, geometry) = render(chart, width: 30, height: 8)
        XCTAssertEqual(litDots(grid, in: geometry.plot), 1)
        XCTAssertLessThan(geometry.yTicks.lower, 0.7)
        XCTAssertGreaterThan(geometry.yTicks.upper, 0.7)
    }

    func testConstantSeriesIsOneHorizontalLine() {
        let chart = BrailleChart(series: [ChartSeries(label: "x", color: .red, values: Array(repeating: 5, count: 50))], showLegend: false)
        let (grid, geometry) = render(chart, width: 30, height: 10)
        let rowsWithDots = grid.text(in: geometry.plot).enumerated().filter { $0.element.unicodeScalars.contains { $0.value > 0x2800 } }
        XCTAssertEqual(rowsWithDots.count, 1)
        XCTAssertEqual(litDots(grid, in: geometry.plot), geometry.plot.width * 2)
    }

    func testTinyRectanglesDoNotCrash() {
        let chart = BrailleChart(series: [ChartSeries(label: "x", color: .red, values: [1, 2, 3])], title: "t")
        for (width, height) in [(0, 0), (1, 1), (3, 2), (4, 4), (2, 9)] {
            var grid = CellGrid(width: 5, height: 10)
            chart.draw(into: &grid, in: Rect(x: 1, y: 1, width: width, height: height))
            for y in 0..<grid.height {
                for x in 0..<grid.width where !Rect(x: 1, y: 1, width: width, height: height).contains(x: x, y: y) {
                    XCTAssertEqual(grid[x, y], .blank)
                }
            }
        }
    }

    /// The number of Braille dots lit inside `rect`.
    private func litDots(_ grid: CellGrid, in rect: Rect) -> Int {
        grid.text(in: rect).joined().unicodeScalars
            .filter { (0x2800...0x28FF).contains($0.value) }
            .map { ($0.value - 0x2800).nonzeroBitCount }
            .reduce(0, +)
    }
}
