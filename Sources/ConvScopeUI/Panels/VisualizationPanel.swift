import ConvKit
import Foundation

/// The features view's second page (`o`): for each channel of the selected layer, the 32x32 input
/// synthesised to maximise it (feature visualisation by optimisation), filling in as the worker
/// finishes each batch, drawn in half-block cells at the largest size that fits.
public enum VisualizationPanel {
    /// Grey stand-in for a channel still being optimised.
    static let pending = RGBImage(width: 32, height: 32, color: (40, 40, 40))

    public static func draw(
        _ grid: VisualizationGrid?, layer: String, into cells: inout CellGrid, in rect: Rect, theme: Theme = .standard
    ) {
        guard rect.height >= 3 else { return }
        let (titleRow, rest) = rect.splitTop(1)
        let (statusRow, body) = rest.splitTop(1)
        guard let grid, grid.request.layer == layer else {
            cells.writeLine("\(layer): synthesising the inputs that maximise each channel (o: maps)", in: titleRow, style: theme.title)
            cells.writeLine("starting on a copy of the weights…", in: statusRow, style: theme.dimText)
            return
        }
        let shown = grid.tiles.count
        let which = shown < grid.channels ? "the first \(shown) of \(grid.channels) channels" : "each of \(shown) channels"
        cells.writeLine("\(layer): inputs that maximise \(which) (o: maps)", in: titleRow, style: theme.title)
        let settings = "\(grid.request.options.steps) steps, seed \(grid.request.options.seed)"
        if let error = grid.error {
            cells.writeLine(error, in: statusRow, style: theme.warning)
        } else if let progress = grid.progress {
            let percent = Int((progress * 100).rounded(.down))
            cells.writeLine(
                "optimising: \(percent)% (\(grid.finished)/\(shown) done) · step \(grid.weightsVersion)'s weights · \(settings)",
                in: statusRow, style: theme.text)
        } else {
            let time = grid.seconds.map { String(format: " in %.1f s", $0) } ?? ""
            cells.writeLine(
                "done\(time) · step \(grid.weightsVersion)'s weights · \(settings) · E exports", in: statusRow, style: theme.dimText)
        }
        let tiles = grid.tiles.map { $0 ?? pending }
        FeaturesPanel.drawTiles(tiles, into: &cells, in: body)
    }
}
