import Foundation

/// One point of a chart series.
public struct ChartPoint: Sendable, Hashable {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}

/// A named, coloured line on a `BrailleChart`.
public struct ChartSeries: Sendable {
    public var label: String
    public var color: Color
    public var points: [ChartPoint]

    public init(label: String, color: Color, points: [ChartPoint]) {
        self.label = label
        self.color = color
        self.points = points
    }

    /// A series whose x values are the indices 0, 1, 2, ... of `values` (for example steps).
    public init(label: String, color: Color, values: [Double]) {
        self.init(label: label, color: color, points: values.enumerated().map { ChartPoint(x: Double($0.offset), y: $0.element) })
    }
}

/// A line chart drawn with Braille dots (2 x 4 per cell), with labelled axes and a legend.
///
/// Layout inside its rectangle: a legend row on top (title on the left, one `■ label` per series on
/// the right), the plot with the y-axis labels on its left, then the x axis and its tick labels.
/// The y axis ranges over the data, widened to nice tick values; `logScale` plots log10(y) with
/// ticks at 1, 2, 5 x 10^k. Points with a non-finite coordinate (and, on a log axis, y <= 0) are
/// skipped and break the line; a constant or single-point series still gets a sensible range.
public struct BrailleChart: Sendable {
    public var series: [ChartSeries]
    public var title: String
    public var logScale: Bool
    /// Names the x axis (for example "step" or "epoch"), at the right end of the tick-label row.
    public var xAxisName: String
    /// Fixes the y range instead of fitting it to the data (both bounds positive on a log axis).
    public var yRange: ClosedRange<Double>?
    public var showLegend: Bool
    public var theme: Theme

    public init(
        series: [ChartSeries], title: String = "", logScale: Bool = false, xAxisName: String = "",
        yRange: ClosedRange<Double>? = nil, showLegend: Bool = true, theme: Theme = .standard
    ) {
        self.series = series
        self.title = title
        self.logScale = logScale
        self.xAxisName = xAxisName
        self.yRange = yRange
        self.showLegend = showLegend
        self.theme = theme
    }

    /// Where the parts of the chart went, for callers that place things relative to the plot.
    public struct Geometry: Sendable, Equatable {
        /// The Braille area.
        public var plot: Rect
        public var yTicks: AxisTicks
        public var xTicks: AxisTicks
    }

    /// Draws the chart into `rect` and returns its geometry, or nil when `rect` is too small
    /// for even a one-cell plot (then only the title is written).
    @discardableResult
    public func draw(into grid: inout CellGrid, in rect: Rect) -> Geometry? {
        let headerRows = (showLegend || !title.isEmpty) ? 1 : 0
        let (header, body) = rect.splitTop(headerRows)
        drawHeader(into: &grid, in: header)

        let plotted = series.map { plottablePoints(of: $0) }
        let allPoints = plotted.flatMap { $0.flatMap { $0 } }
        let plotRows = body.height - 2
        guard plotRows >= 1 else { return nil }

        let yTicks = makeYTicks(points: allPoints, plotRows: plotRows)
        let gutter = (yTicks.labels.map(\.count).max() ?? 0) + 1
        let plot = Rect(x: body.x + gutter, y: body.y, width: body.width - gutter, height: plotRows)
        guard plot.width >= 1 else { return nil }
        let xTicks = makeXTicks(points: allPoints, plotColumns: plot.width)

        var canvas = BrailleCanvas(columns: plot.width, rows: plot.height)
        let mapping = DotMapping(xTicks: xTicks, yTicks: yTicks, logScale: logScale, canvas: canvas)
        for (index, points) in plotted.enumerated() {
            drawLines(of: points, color: series[index].color, mapping: mapping, on: &canvas)
        }

        drawYAxis(into: &grid, plot: plot, ticks: yTicks, mapping: mapping, clip: rect)
        drawXAxis(into: &grid, plot: plot, ticks: xTicks, mapping: mapping, clip: rect)
        canvas.draw(into: &grid, x: plot.x, y: plot.y, clip: rect)
        if allPoints.isEmpty {
            grid.writeLine("no data yet", in: plot.centered(width: plot.width, height: 1), alignment: .center, style: theme.dimText)
        }
        return Geometry(plot: plot, yTicks: yTicks, xTicks: xTicks)
    }

    /// Runs of drawable points: a skipped point ends one run and starts the next.
    private func plottablePoints(of series: ChartSeries) -> [[ChartPoint]] {
        var runs: [[ChartPoint]] = [[]]
        for point in series.points {
            let drawable = point.x.isFinite && point.y.isFinite && (!logScale || point.y > 0)
            if drawable {
                runs[runs.count - 1].append(point)
            } else if !(runs.last?.isEmpty ?? true) {
                runs.append([])
            }
        }
        return runs.filter { !$0.isEmpty }
    }

    private func makeYTicks(points: [ChartPoint], plotRows: Int) -> AxisTicks {
        let targetCount = min(max(plotRows / 2 + 1, 2), 6)
        let values = points.map(\.y)
        let range = yRange ?? (values.min().map { $0...values.max()! })
        if logScale {
            let fallback = 0.1...1.0
            let bounds = range.flatMap { $0.lowerBound > 0 ? $0 : nil } ?? fallback
            return AxisTicks.logarithmic(minimum: bounds.lowerBound, maximum: bounds.upperBound)
        }
        let bounds = range ?? 0...1
        return AxisTicks.linear(minimum: bounds.lowerBound, maximum: bounds.upperBound, targetCount: targetCount, snapToTicks: yRange == nil)
    }

    private func makeXTicks(points: [ChartPoint], plotColumns: Int) -> AxisTicks {
        let values = points.map(\.x)
        guard let low = values.min(), let high = values.max() else {
            return AxisTicks.linear(minimum: 0, maximum: 1, targetCount: 2, snapToTicks: false)
        }
        // A single x value gets one unit to its right, so the point sits at the left edge.
        let upper = high > low ? high : low + 1
        let targetCount = min(max(plotColumns / 10 + 1, 2), 8)
        return AxisTicks.linear(minimum: low, maximum: upper, targetCount: targetCount, snapToTicks: false)
    }

    private func drawLines(of runs: [[ChartPoint]], color: Color, mapping: DotMapping, on canvas: inout BrailleCanvas) {
        for run in runs {
            var previous = mapping.dot(for: run[0])
            canvas.setDot(x: previous.x, y: previous.y, color: color)
            for point in run.dropFirst() {
                let dot = mapping.dot(for: point)
                canvas.drawLine(fromX: previous.x, y: previous.y, toX: dot.x, y: dot.y, color: color)
                previous = dot
            }
        }
    }

    private func drawHeader(into grid: inout CellGrid, in header: Rect) {
        guard !header.isEmpty else { return }
        grid.writeLine(title, in: header, style: theme.title)
        guard showLegend else { return }
        let entries = series.map { "■ " + $0.label }
        let legendWidth = entries.map(\.count).reduce(0, +) + 2 * max(entries.count - 1, 0)
        let titleEnd = title.isEmpty ? header.x : header.x + title.count + 1
        var x = max(header.maxX - legendWidth, titleEnd)
        for (entry, item) in zip(entries, series) {
            grid.write("■", x: x, y: header.y, style: Style(foreground: item.color), clip: header)
            grid.write(String(entry.dropFirst()), x: x + 1, y: header.y, style: theme.text, clip: header)
            x += entry.count + 2
        }
    }

    private func drawYAxis(into grid: inout CellGrid, plot: Rect, ticks: AxisTicks, mapping: DotMapping, clip: Rect) {
        let axisX = plot.x - 1
        for row in plot.y..<plot.maxY {
            grid.set(Cell("│", style: theme.axis), x: axisX, y: row, clip: clip)
        }
        var lastLabelRow = Int.min
        for (value, label) in zip(ticks.values, ticks.labels) {
            let row = plot.y + mapping.dotY(forValue: value) / 4
            guard row != lastLabelRow, row >= plot.y, row < plot.maxY else { continue }
            grid.set(Cell("┤", style: theme.axis), x: axisX, y: row, clip: clip)
            grid.write(label, x: axisX - label.count, y: row, style: theme.dimText, clip: clip)
            lastLabelRow = row
        }
    }

    private func drawXAxis(into grid: inout CellGrid, plot: Rect, ticks: AxisTicks, mapping: DotMapping, clip: Rect) {
        let axisRow = plot.maxY, labelRow = plot.maxY + 1
        grid.set(Cell("└", style: theme.axis), x: plot.x - 1, y: axisRow, clip: clip)
        for column in plot.x..<plot.maxX {
            grid.set(Cell("─", style: theme.axis), x: column, y: axisRow, clip: clip)
        }
        // The axis name keeps its place at the right end; tick labels fill the row before it.
        let nameStart = xAxisName.isEmpty ? plot.maxX + 1 : plot.maxX - xAxisName.count
        if !xAxisName.isEmpty {
            grid.write(xAxisName, x: nameStart, y: labelRow, style: theme.dimText, clip: clip)
        }
        var freeFrom = plot.x - 1
        for (value, label) in zip(ticks.values, ticks.labels) {
            let column = plot.x + mapping.dotX(forValue: value) / 2
            grid.set(Cell("┬", style: theme.axis), x: column, y: axisRow, clip: clip)
            let start = min(max(column - label.count / 2, plot.x - 1), plot.maxX - label.count)
            guard start >= freeFrom, start + label.count < nameStart else { continue }
            grid.write(label, x: start, y: labelRow, style: theme.dimText, clip: clip)
            freeFrom = start + label.count + 1
        }
    }
}

/// Maps data values to dot coordinates on a chart's canvas.
private struct DotMapping {
    let xLower: Double, xUpper: Double
    let yLower: Double, yUpper: Double
    let logScale: Bool
    let dotWidth: Int, dotHeight: Int

    init(xTicks: AxisTicks, yTicks: AxisTicks, logScale: Bool, canvas: BrailleCanvas) {
        (xLower, xUpper) = (xTicks.lower, xTicks.upper)
        (yLower, yUpper) = logScale ? (log10(yTicks.lower), log10(yTicks.upper)) : (yTicks.lower, yTicks.upper)
        self.logScale = logScale
        (dotWidth, dotHeight) = (canvas.dotWidth, canvas.dotHeight)
    }

    func dotX(forValue x: Double) -> Int {
        Self.scaled((x - xLower) / (xUpper - xLower), steps: dotWidth)
    }

    /// Row 0 is the top, so larger values get smaller rows.
    func dotY(forValue y: Double) -> Int {
        let value = logScale ? log10(y) : y
        return Self.scaled((yUpper - value) / (yUpper - yLower), steps: dotHeight)
    }

    func dot(for point: ChartPoint) -> (x: Int, y: Int) {
        (dotX(forValue: point.x), dotY(forValue: point.y))
    }

    /// A fraction of the axis to a dot index in 0..<steps; values outside the axis are kept within one
    /// axis length of it, so lines towards them leave the canvas at about the right slope without
    /// walking millions of off-canvas dots.
    private static func scaled(_ fraction: Double, steps: Int) -> Int {
        let clamped = min(max(fraction, -1), 2)
        return Int((clamped * Double(steps - 1)).rounded())
    }
}
