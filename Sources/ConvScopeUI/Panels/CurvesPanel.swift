import ConvKit
import ConvPresent
import Foundation

/// Loss and accuracy against the training step, in Braille dots with auto-ranging axes.
///
/// The loss chart has every step's loss (dim), its exponential moving average (bright) and the test
/// loss after each epoch; `logScale` puts it on a log axis. The accuracy chart (0-1) has the smoothed
/// training accuracy and the test accuracy after each epoch. A last row sums up the latest epoch.
public enum CurvesPanel {
    /// Weight of the newest step in the moving average (about a 20-step window).
    public static let smoothing = 0.05
    /// Steps beyond this many are thinned out before plotting (a chart is a few hundred dots wide).
    public static let maximumPoints = 1500

    public static func draw(
        _ snapshot: TrainingSnapshot, logScale: Bool, into grid: inout CellGrid, in rect: Rect, theme: Theme = .standard
    ) {
        guard rect.height >= 4 else { return }
        let history = snapshot.history
        let (charts, summaryRow) = history.epochs.isEmpty ? (rect, Rect(x: 0, y: 0, width: 0, height: 0)) : rect.splitBottom(1)
        let (lossArea, accuracyArea) = charts.splitTop(charts.height * 11 / 20)
        let steps = history.steps
        let epochEnds = history.epochs.map { Double($0.epoch * snapshot.stepsPerEpoch) }

        let loss = steps.map { ChartPoint(x: Double($0.step), y: Double($0.loss)) }
        BrailleChart(
            series: [
                ChartSeries(label: "loss", color: Color(grey: 95), points: thinned(loss)),
                ChartSeries(label: "smoothed", color: Color(hex: 0x5FAFFF), points: thinned(smoothed(loss))),
                ChartSeries(label: "test", color: Color(hex: 0xFFAF00), points: zip(epochEnds, history.epochs).map {
                    ChartPoint(x: $0, y: Double($1.testLoss))
                }),
            ],
            title: logScale ? "loss (log, l)" : "loss (l: log)", logScale: logScale, xAxisName: "step", theme: theme
        ).draw(into: &grid, in: lossArea)

        let accuracy = steps.map { ChartPoint(x: Double($0.step), y: Double($0.accuracy)) }
        BrailleChart(
            series: [
                ChartSeries(label: "train", color: Color(hex: 0x87D75F), points: thinned(smoothed(accuracy))),
                ChartSeries(label: "test", color: Color(hex: 0xFF5F87), points: zip(epochEnds, history.epochs).map {
                    ChartPoint(x: $0, y: Double($1.testAccuracy))
                }),
            ],
            title: "accuracy", xAxisName: "step", yRange: 0...1, theme: theme
        ).draw(into: &grid, in: accuracyArea)

        if let last = history.epochs.last {
            let text = String(
                format: "epoch %d: %@ img/s, test acc %.1f%% loss %.3f, train acc %.1f%% loss %.3f", last.epoch,
                Int(last.imagesPerSecond.rounded()).formatted, last.testAccuracy * 100, last.testLoss, last.trainAccuracy * 100,
                last.trainLoss)
            grid.writeLine(text, in: summaryRow, style: theme.dimText)
        }
    }

    /// Every k-th point so that at most `maximumPoints` remain (the newest step always kept).
    static func thinned(_ points: [ChartPoint]) -> [ChartPoint] {
        guard points.count > maximumPoints else { return points }
        let stride = (points.count + maximumPoints - 1) / maximumPoints
        var kept = Swift.stride(from: 0, to: points.count, by: stride).map { points[$0] }
        if (points.count - 1) % stride != 0 { kept.append(points[points.count - 1]) }
        return kept
    }

    /// The exponential moving average of the y values, bias-corrected so that the first points
    /// are not dragged towards zero.
    public static func smoothed(_ points: [ChartPoint]) -> [ChartPoint] {
        var average = 0.0, weight = 0.0
        return points.map { point in
            average = (1 - smoothing) * average + smoothing * point.y
            weight = (1 - smoothing) * weight + smoothing
            return ChartPoint(x: point.x, y: average / weight)
        }
    }
}
