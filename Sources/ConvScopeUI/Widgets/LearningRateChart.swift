import ConvKit
import Foundation

/// A learning-rate range test's curve, for the app's overlay and, as Braille text, for `convscope lr-find`.
public enum LearningRateChart {
    /// The smoothed loss against the rate (log axis) as Braille text, the suggestion marked by a second series.
    public static func text(_ result: LearningRateFinder.Result, width: Int, height: Int) -> String {
        var grid = CellGrid(width: width, height: height)
        draw(result, into: &grid, in: grid.bounds, theme: .standard)
        return grid.lines.map { $0.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) }.joined(separator: "\n")
    }

    /// Draws the curve into `rect`: x is log10 of the rate, y the smoothed loss; the suggested rate is a
    /// vertical line.
    public static func draw(_ result: LearningRateFinder.Result, into grid: inout CellGrid, in rect: Rect, theme: Theme) {
        let points = result.points.map { ChartPoint(x: Double(log10($0.rate)), y: Double($0.smoothedLoss)) }
        var series = [ChartSeries(label: "smoothed loss", color: Color(hex: 0x5FAFFF), points: points)]
        if let suggested = result.suggestedRate, let low = points.map(\.y).min(), let high = points.map(\.y).max() {
            let x = Double(log10(suggested))
            series.append(ChartSeries(label: "suggested", color: Color(hex: 0xFFAF00), points: [
                ChartPoint(x: x, y: low), ChartPoint(x: x, y: high),
            ]))
        }
        BrailleChart(series: series, title: "loss vs log10(learning rate)", xAxisName: "log10 lr", theme: theme).draw(into: &grid, in: rect)
    }
}
