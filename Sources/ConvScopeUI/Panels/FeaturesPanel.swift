import ConvKit
import Foundation

/// The selected layer's output for the selected image as a grid of small heatmaps, its filters
/// when it is a convolution (colour patches for the first layer, the mean over input channels
/// deeper in), and statistics of its activations including the share of dead (zero) units.
///
/// Maps and filters share one colour scale per map, per layer or globally (`ColorScaleScope`); signed
/// values get the diverging palette centred on zero, non-negative ones viridis (`Visualizer.tiles`).
public enum FeaturesPanel {
    /// Draws the panel; `layers` tells which layer kinds the maps come from (for the dead-ReLU share).
    public static func draw(
        _ insight: Insight?, layers: [ModelSummary.Row], scope: ColorScaleScope, into grid: inout CellGrid, in rect: Rect,
        theme: Theme = .standard
    ) {
        guard rect.height >= 3 else { return }
        guard let insight else {
            grid.writeLine("computing the first feature maps…", in: rect, style: theme.dimText)
            return
        }
        let maps = insight.featureMaps
        let (infoRow, rest) = rect.splitTop(1)
        let kind = layers.first { $0.name == maps.layer }?.kind
        let statsLines = statisticsLines(insight, isReLU: kind == .relu)
        let (body, statsArea) = rest.splitBottom(min(statsLines.count, max(rest.height - 4, 1)))
        let shape = maps.isSpatial ? "\(maps.channels) maps of \(maps.height)x\(maps.width)" : "a vector of \(maps.channels) values"
        grid.writeLine("\(maps.layer): \(shape)   scale: \(scopeName(scope)) (v)", in: infoRow, style: theme.title)
        for (index, line) in statsLines.prefix(statsArea.height).enumerated() {
            grid.writeLine(line, in: Rect(x: statsArea.x, y: statsArea.y + index, width: statsArea.width, height: 1), style: theme.dimText)
        }

        var mapArea = body, filterArea: Rect?
        if let bank = insight.filters, body.height >= 6 {
            if body.width >= 100 {
                let split = body.splitRight(body.width / 3)
                (mapArea, filterArea) = (split.rest.splitRight(1).rest, split.right)
            } else {
                let split = body.splitBottom(max(body.height / 3, 3))
                (mapArea, filterArea) = (split.rest, split.bottom)
            }
            if let filterArea { drawFilters(bank, scope: scope, globalRange: insight.weightRange, into: &grid, in: filterArea, theme: theme) }
        }
        if maps.isSpatial {
            let planes = (0..<maps.channels).map { Array(maps.plane($0)) }
            let tiles = Visualizer.tiles(
                planes: planes, width: maps.width, height: maps.height, scope: scope, globalRange: insight.featureRange)
            let (title, tileArea) = mapArea.splitTop(1)
            let shown = drawTiles(tiles, into: &grid, in: tileArea)
            let more = shown < tiles.count ? " (first \(shown); the rest do not fit)" : ""
            grid.writeLine("feature maps, image #\(insight.request.imageIndex)\(more)", in: title, style: theme.text)
        } else {
            drawVector(maps.values, into: &grid, in: mapArea, theme: theme)
        }
    }

    /// The statistics rows: activations (with the dead-ReLU share after a ReLU), then weights.
    public static func statisticsLines(_ insight: Insight, isReLU: Bool) -> [String] {
        let maps = insight.featureMaps, stats = insight.activationStatistics
        var activation = String(
            format: "out min %.3g max %.3g mean %.3g sd %.3g", stats.minimum, stats.maximum, stats.mean, stats.standardDeviation)
        let deadMaps = maps.isSpatial ? (0..<maps.channels).filter { c in !maps.plane(c).contains { $0 != 0 } }.count : 0
        let zeros = String(format: "%.1f%%", stats.zeroFraction * 100)
        activation += isReLU
            ? "   dead ReLU \(zeros) of units, \(deadMaps)/\(maps.channels) maps all zero"
            : "   zeros \(zeros)"
        var lines = [activation]
        if let weights = insight.weightStatistics {
            var line = String(format: "weights mean %.3g sd %.3g norm %.3g", weights.mean, weights.standardDeviation, weights.norm)
            if let bank = insight.filters { line += String(format: "   last gradient norm %.3g", bank.gradientStatistics.norm) }
            lines.append(line)
        }
        return lines
    }

    /// Draws equally sized tiles left to right, top to bottom, one cell apart, choosing the number
    /// of columns that makes them largest (at most 8 pixels per value); when even the smallest
    /// tiles (2 x 1 cells) cannot all fit, as many as fit. Returns how many were drawn.
    @discardableResult
    public static func drawTiles(_ tiles: [RGBImage], into grid: inout CellGrid, in rect: Rect) -> Int {
        guard let first = tiles.first, !rect.isEmpty else { return 0 }
        var best: (columns: Int, size: (width: Int, height: Int))?
        for columns in 1...tiles.count {
            let rows = (tiles.count + columns - 1) / columns
            let cellWidth = (rect.width + 1) / columns - 1, cellHeight = (rect.height + 1) / rows - 1
            guard cellWidth >= 2, cellHeight >= 1 else { continue }
            let limit = (width: min(cellWidth, 8 * first.width), height: min(cellHeight, 4 * first.height))
            let size = HalfBlockImage.fittedSize(width: first.width, height: first.height, columns: limit.width, rows: limit.height)
            if size.width * size.height > (best.map { $0.size.width * $0.size.height } ?? 0) { best = (columns, size) }
        }
        let size = best?.size ?? HalfBlockImage.fittedSize(width: first.width, height: first.height, columns: 2, rows: 1)
        let footprint = (columns: size.width, rows: (size.height + 1) / 2)
        let perRow = best?.columns ?? max((rect.width + 1) / (footprint.columns + 1), 1)
        let capacity = perRow * max((rect.height + 1) / (footprint.rows + 1), 0)
        let count = min(tiles.count, capacity)
        for index in 0..<count {
            let cell = Rect(
                x: rect.x + (index % perRow) * (footprint.columns + 1), y: rect.y + (index / perRow) * (footprint.rows + 1),
                width: footprint.columns, height: footprint.rows)
            HalfBlockImage(image: tiles[index]).draw(into: &grid, in: cell.intersection(rect))
        }
        return count
    }

    private static func drawFilters(
        _ bank: FilterBank, scope: ColorScaleScope, globalRange: ClosedRange<Float>, into grid: inout CellGrid, in rect: Rect, theme: Theme
    ) {
        let (title, area) = rect.splitTop(1)
        let tiles: [RGBImage]
        let kind: String
        if bank.isRGB {
            tiles = Visualizer.rgbFilters(bank, scope: scope, globalRange: globalRange)
            kind = "RGB"
        } else {
            let planes = (0..<bank.outChannels).map { bank.averagePlane(out: $0) }
            tiles = Visualizer.tiles(planes: planes, width: bank.kernel, height: bank.kernel, scope: scope, globalRange: globalRange)
            kind = "mean of \(bank.inChannels) inputs"
        }
        let shown = drawTiles(tiles, into: &grid, in: area)
        let more = shown < tiles.count ? ", first \(shown)" : ""
        grid.writeLine("filters: \(bank.outChannels) x \(bank.kernel)x\(bank.kernel) \(kind)\(more)", in: title, style: theme.text)
    }

    /// A flat layer's values as a row of coloured cells (two columns each), wrapped to the width.
    private static func drawVector(_ values: [Float], into grid: inout CellGrid, in rect: Rect, theme: Theme) {
        let (title, area) = rect.splitTop(1)
        grid.writeLine("values, coloured on one scale (blue negative, red positive):", in: title, style: theme.text)
        let colored = Visualizer.tiles(planes: [values], width: values.count, height: 1, scope: .layer)[0]
        let perRow = max(area.width / 2, 1)
        for (index, _) in values.enumerated() where index / perRow < area.height {
            let style = Style(background: Color(colored[index, 0]))
            grid.write("  ", x: area.x + (index % perRow) * 2, y: area.y + index / perRow, style: style, clip: area)
        }
    }

    static func scopeName(_ scope: ColorScaleScope) -> String {
        switch scope {
        case .map: return "per map"
        case .layer: return "per layer"
        case .global: return "global"
        }
    }
}
