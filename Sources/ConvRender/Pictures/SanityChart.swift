import ConvKit
import Foundation

/// A sanity curve drawn as a line chart for PNG exports: the randomised layers along x (in the test's
/// order, the classifier first), Spearman's rho and SSIM with the trained model's map along y, on a fixed
/// -1...1 scale so that charts of different methods and images compare at a glance (a diff-mode curve's
/// changes on -2...2: `span`). Layers not yet done are labelled but carry no point, so a partial curve shows
/// how far the test got.
///
/// The geometry (`x(at:)`, `y(for:)`) is public so that a test can find each point's marker.
public struct SanityChart: Sendable {
    public static let spearmanColor: RGBImage.Color = (255, 150, 40)
    public static let ssimColor: RGBImage.Color = (80, 200, 255)
    /// The colour of the note that says the curve is incomplete (or why there is none).
    public static let noteColor: RGBImage.Color = (255, 210, 0)
    static let gridColor: RGBImage.Color = (55, 55, 55)
    static let zeroColor: RGBImage.Color = (120, 120, 120)
    static let textColor: RGBImage.Color = (200, 200, 200)
    /// The side of a point's square marker (odd, centred on the point).
    public static let markerSize = 5
    public static let standardHeight = 230

    public let layers: [String]
    /// The scale runs from -span to span: 1 for scores, `SanityCurve.changeSpan` for their changes.
    public let span: Double
    public let width: Int
    public let height: Int
    /// The plot area (the -span...span band and the first to the last layer).
    public let plotLeft: Int, plotRight: Int, plotTop: Int, plotBottom: Int

    public init(layers: [String], width: Int, height: Int = SanityChart.standardHeight, span: Double = 1) {
        let font = BitmapFont.standard
        self.layers = layers
        self.span = span
        self.width = max(width, 160)
        self.height = max(height, 120)
        plotLeft = 8 + font.size(of: "-1.0").width + 10
        plotRight = self.width - 16
        plotTop = 8 + 3 * (font.lineHeight + 4) + 8
        plotBottom = self.height - 8 - font.lineHeight - 8
    }

    /// The column of the `index`th layer's point.
    public func x(at index: Int) -> Int {
        let inset = 8
        guard layers.count > 1 else { return (plotLeft + plotRight) / 2 }
        return plotLeft + inset + index * (plotRight - plotLeft - 2 * inset) / (layers.count - 1)
    }

    /// The row of `value` (clamped to -span...span; span at the top).
    public func y(for value: Double) -> Int {
        let clamped = value.isFinite ? min(max(value, -span), span) : 0
        return plotBottom - Int(((clamped + span) / (2 * span) * Double(plotBottom - plotTop)).rounded())
    }

    /// The chart of the first `spearman.count` layers' scores (`ssim` as long), under `title`, with
    /// `note` (why the curve is incomplete) in `noteColor` when given.
    public func draw(title: String, spearman: [Double], ssim: [Double], note: String? = nil) -> RGBImage {
        precondition(spearman.count == ssim.count && spearman.count <= layers.count, "one score pair per layer done")
        let font = BitmapFont.standard
        var canvas = RGBImage(width: width, height: height)
        canvas.drawText(title, x: 8, y: 8)
        // The legend, then the note under it.
        var legendX = 8
        let legendY = 8 + font.lineHeight + 4
        for (name, color) in [("Spearman rho", SanityChart.spearmanColor), ("SSIM", SanityChart.ssimColor)] {
            canvas.fill(x: legendX, y: legendY + 1, width: 5, height: 5, color: color)
            canvas.drawText(name, x: legendX + 8, y: legendY, color: color)
            legendX += 8 + font.size(of: name).width + 14
        }
        canvas.drawText("x: the randomised layer, the classifier first", x: legendX, y: legendY, color: SanityChart.textColor)
        if let note { canvas.drawText(note, x: 8, y: legendY + font.lineHeight + 4, color: SanityChart.noteColor) }
        // The scale: a line every quarter of it, zero brighter, labelled on the left.
        for tick in [1.0, 0.5, 0, -0.5, -1].map({ $0 * span }) {
            let row = y(for: tick)
            canvas.fill(x: plotLeft, y: row, width: plotRight - plotLeft + 1, height: 1, color: tick == 0 ? SanityChart.zeroColor : SanityChart.gridColor)
            let label = tick == 0 ? "0" : String(format: "%.1f", tick)
            canvas.drawText(label, x: plotLeft - 6 - font.size(of: label).width, y: row - font.glyphHeight / 2, color: SanityChart.textColor)
        }
        drawLayerLabels(into: &canvas)
        let series = [(spearman, SanityChart.spearmanColor), (ssim, SanityChart.ssimColor)]
        // Lines first, then the markers on top of every line: each point stays visible (SSIM's over rho's
        // where the two coincide).
        for (values, color) in series {
            for index in values.indices.dropFirst() {
                canvas.drawLine(from: x(at: index - 1), y(for: values[index - 1]), to: x(at: index), y(for: values[index]), color: color, thickness: 2)
            }
        }
        let half = SanityChart.markerSize / 2
        for (values, color) in series {
            for (index, value) in values.enumerated() {
                canvas.fill(x: x(at: index) - half, y: y(for: value) - half, width: SanityChart.markerSize, height: SanityChart.markerSize, color: color)
            }
        }
        return canvas
    }

    /// Layer names under the plot, as many as fit without overlapping (evenly spaced, the first always),
    /// with a tick on the zero line for every layer.
    private func drawLayerLabels(into canvas: inout RGBImage) {
        let font = BitmapFont.standard
        let widest = layers.map { font.size(of: $0).width }.max() ?? 0
        let spacing = layers.count > 1 ? Double(x(at: layers.count - 1) - x(at: 0)) / Double(layers.count - 1) : Double(widest)
        let every = max(1, Int((Double(widest + 8) / max(spacing, 1)).rounded(.up)))
        for index in layers.indices {
            canvas.fill(x: x(at: index), y: plotBottom + 2, width: 1, height: 4, color: SanityChart.textColor)
            guard index % every == 0 else { continue }
            let label = layers[index]
            let left = min(max(x(at: index) - font.size(of: label).width / 2, 0), width - font.size(of: label).width)
            canvas.drawText(label, x: left, y: plotBottom + 8, color: SanityChart.textColor)
        }
    }
}
