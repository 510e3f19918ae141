import ConvKit
import ConvPresent
import ConvRender
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
        grid.writeLine("\(maps.layer): \(shape)   scale: \(scopeName(scope)) (v)   o: synthesised inputs", in: infoRow, style: theme.title)
        for (index, line) in statsLines.prefix(statsArea.height).enumerated() {
            grid.writeLine(line, in: Rect(x: statsArea.x, y: statsArea.y + index, width: statsArea.width, height: 1), style: theme.dimText)
        }

        var mapArea = body
        if let bank = insight.filters, body.height >= 6 {
            let split = FeaturesPanel.split(
                body, maps: (maps.isSpatial ? maps.channels : 0, maps.width, maps.height), filters: (bank.outChannels, bank.kernel))
            mapArea = split.maps
            drawFilters(bank, scope: scope, globalRange: insight.weightRange, into: &grid, in: split.filters, theme: theme)
        }
        if maps.isSpatial {
            let tiles = FeatureTiles.maps(maps, scope: scope, globalRange: insight.featureRange)
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

    /// Where the maps and the filters go in `body`: side by side or stacked, at the split that draws the
    /// maps largest while the filters get a fair size too. Each candidate split is scored by the maps'
    /// drawn area as a share of what the whole body would give them, plus half the filters' drawn area as
    /// a share of what the body would give them up to 4x enlargement, so the maps take what the filters do
    /// not need (a 3x3 kernel drawn at 12x12 pixels is plenty) and neither gets a slot it leaves half empty;
    /// a split that cannot show every filter at one pixel per weight (when the body can) is not taken.
    public static func split(
        _ body: Rect, maps: (count: Int, width: Int, height: Int), filters: (count: Int, kernel: Int)
    ) -> (maps: Rect, filters: Rect) {
        func area(_ size: (width: Int, height: Int)) -> Double { Double(size.width * size.height) }
        let whole = body.splitTop(1).rest
        let mapsAlone = area(tileSize(count: maps.count, width: maps.width, height: maps.height, in: whole))
        let filtersAlone = min(
            area(tileSize(count: filters.count, width: filters.kernel, height: filters.kernel, in: whole)),
            Double(16 * filters.kernel * filters.kernel))
        // Every filter is shown, at one cell per weight at least when the whole body allows that.
        let filterFloor = min(filtersAlone, Double(filters.kernel * filters.kernel))
        func score(_ mapRect: Rect, _ filterRect: Rect) -> Double {
            let f = area(tileSize(count: filters.count, width: filters.kernel, height: filters.kernel, in: filterRect.splitTop(1).rest))
            guard f >= filterFloor, f > 0 else { return -1 + f / max(filterFloor, 1) }
            let filterShare = filtersAlone > 0 ? min(f / filtersAlone, 1) : 0
            guard mapsAlone > 0 else { return filterShare }
            let m = area(tileSize(count: maps.count, width: maps.width, height: maps.height, in: mapRect.splitTop(1).rest))
            return m / mapsAlone + 0.5 * filterShare
        }
        var best = (score: -Double.infinity, maps: body, filters: body)
        for width in stride(from: min(12, body.width / 2), through: body.width / 2, by: 1) {
            let parts = body.splitRight(width)
            let candidate = (maps: parts.rest.splitRight(1).rest, filters: parts.right)
            let value = score(candidate.maps, candidate.filters)
            if value > best.score { best = (value, candidate.maps, candidate.filters) }
        }
        for height in stride(from: min(3, body.height / 2), through: body.height / 2, by: 1) {
            let parts = body.splitBottom(height)
            let value = score(parts.rest, parts.bottom)
            if value > best.score { best = (value, parts.rest, parts.bottom) }
        }
        return (best.maps, best.filters)
    }

    /// The pixel size `drawTiles` gives `count` tiles of `width` x `height` in `rect`.
    public static func tileSize(count: Int, width: Int, height: Int, in rect: Rect) -> (width: Int, height: Int) {
        tileLayout(count: count, width: width, height: height, in: rect)?.size ?? (0, 0)
    }

    /// The number of columns that makes `count` equal tiles largest in `rect`, one cell apart (at most 8
    /// pixels per value, so a 32x32 map goes up to full resolution and a 3x3 kernel up to 24x24), and the
    /// tiles' pixel size; nil when not even 2 x 1 cells each fit.
    static func tileLayout(count: Int, width: Int, height: Int, in rect: Rect) -> (columns: Int, size: (width: Int, height: Int))? {
        guard count > 0, width > 0, height > 0, !rect.isEmpty else { return nil }
        var best: (columns: Int, size: (width: Int, height: Int))?
        for columns in 1...count {
            let rows = (count + columns - 1) / columns
            let cellWidth = (rect.width + 1) / columns - 1, cellHeight = (rect.height + 1) / rows - 1
            if cellWidth < 2 { break }
            guard cellHeight >= 1 else { continue }
            let limit = (width: min(cellWidth, 8 * width), height: min(cellHeight, 4 * height))
            let size = HalfBlockImage.fittedSize(width: width, height: height, columns: limit.width, rows: limit.height)
            if size.width * size.height > (best.map { $0.size.width * $0.size.height } ?? 0) { best = (columns, size) }
        }
        return best
    }

    /// Draws equally sized tiles left to right, top to bottom, one cell apart, choosing the number
    /// of columns that makes them largest (`tileLayout`); when even the smallest tiles (2 x 1 cells)
    /// cannot all fit, as many as fit. Returns how many were drawn.
    @discardableResult
    public static func drawTiles(_ tiles: [RGBImage], into grid: inout CellGrid, in rect: Rect) -> Int {
        guard let first = tiles.first, !rect.isEmpty else { return 0 }
        let best = tileLayout(count: tiles.count, width: first.width, height: first.height, in: rect)
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
        let tiles = FeatureTiles.filters(bank, scope: scope, globalRange: globalRange)
        let kind = bank.isRGB ? "RGB" : "mean of \(bank.inChannels) inputs"
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
