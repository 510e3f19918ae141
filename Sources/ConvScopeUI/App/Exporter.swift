import ConvKit
import ConvPresent
import ConvRender
import Foundation

/// Writes what the panels show to files in the export folder, under generated names:
/// `gradcam-<layer>-<class>-img<index>-step<step>.png` for the heatmap strip (image | heatmap |
/// overlay, captioned), `features-<layer>-img<index>-step<step>.png` for the feature-map grid and
/// `filters-<layer>-step<step>.png` for a convolution's filters, `explain-<group>-<layer>-img<index>-step<step>.png`
/// for the explanation board (and its sanity curve); compressed models (w in the
/// compression view) go to `.safetensors` checkpoints. The folder is created when missing; files are
/// written atomically.
public struct Exporter: Sendable {
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// Writes the heatmap strip of `insight` at weights version `step`; returns the path.
    public func exportHeatmap(_ insight: Insight, classNames: [String], step: Int) throws -> String {
        guard let map = insight.activationMap else {
            throw ExportError.nothingToExport("no heatmap to export: \(insight.activationMapError ?? "none computed")")
        }
        let className = GradCAMPanel.name(map.classIndex, classNames)
        let strip = Visualizer.strip(
            image: insight.image, map: map, className: className, probability: insight.probabilities[map.classIndex])
        let name = "gradcam-\(Exporter.slug(map.layer))-\(Exporter.slug(className))-img\(insight.request.imageIndex)-step\(step).png"
        return try write(strip, name: name)
    }

    /// Writes the feature-map grid of `insight` (and the filter grid when the layer is a
    /// convolution), coloured by `scope`; returns the paths.
    public func exportGrid(_ insight: Insight, scope: ColorScaleScope, step: Int) throws -> [String] {
        let maps = insight.featureMaps
        let layer = Exporter.slug(maps.layer)
        let tiles = FeatureTiles.maps(maps, scope: scope, globalRange: insight.featureRange)
        let grid = Visualizer.grid(
            tiles, labels: maps.isSpatial ? (0..<tiles.count).map(String.init) : [],
            title: "\(maps.layer) feature maps, test image \(insight.request.imageIndex), step \(step)")
        var paths = [try write(grid, name: "features-\(layer)-img\(insight.request.imageIndex)-step\(step).png")]
        if let bank = insight.filters {
            let filterTiles = FeatureTiles.filters(bank, scope: scope, globalRange: insight.weightRange)
            let filters = Visualizer.grid(
                filterTiles, labels: (0..<filterTiles.count).map(String.init), title: "\(maps.layer) filters, step \(step)")
            paths.append(try write(filters, name: "filters-\(layer)-step\(step).png"))
        }
        return paths
    }

    /// Writes the explanation board (the image, then each map shown, captioned with its method and its
    /// deletion / insertion scores) as `explain-<group>-<layer>-img<index>-step<step>.png`; returns the path.
    /// With `sanity` (the curve the view shows for the board's selection), the sanity curve is drawn under
    /// the maps: a chart of Spearman's rho and SSIM per randomised layer, with a note when the curve is
    /// still computing or failed, or a line saying it has not started (`curve` nil or for another request).
    public func exportBoard(
        _ board: ExplanationBoard, sanity: SanityRequest? = nil, curve: SanityCurve? = nil, group: String, classNames: [String]
    ) throws -> String {
        let picture = try Exporter.boardPicture(board, sanity: sanity, curve: curve, classNames: classNames)
        let since = board.since.map { "-since\($0)" } ?? ""
        let name = "explain-\(group)-\(Exporter.slug(board.request.layer))-img\(board.request.imageIndex)-step\(board.weightsVersion)\(since).png"
        return try write(picture, name: name)
    }

    /// The picture `exportBoard` writes: the board's grid, then (with `sanity`) the sanity section, as wide as the grid.
    public static func boardPicture(
        _ board: ExplanationBoard, sanity: SanityRequest? = nil, curve: SanityCurve? = nil, classNames: [String]
    ) throws -> RGBImage {
        let maps = board.entries.filter { $0.hasMap }
        guard !maps.isEmpty else { throw ExportError.nothingToExport("no explanation map to export yet: the board is still computing") }
        let labels = ["true: \(GradCAMPanel.name(board.label, classNames))"] + maps.map { entry in
            entry.title + (entry.scores.map { String(format: " d%.2f i%.2f", $0.deletion, $0.insertion) } ?? "")
        }
        let className = GradCAMPanel.name(board.classIndex, classNames)
        let grid = Visualizer.grid(
            [board.image] + maps.compactMap(board.heatmap(of:)), labels: labels,
            title: "\(className) \(String(format: "%.2f", board.probability)), test image \(board.request.imageIndex), \(board.request.layer), step \(board.weightsVersion)"
                + (board.since.map { ", change since step \($0)" } ?? ""),
            tile: 192, columns: 3)
        guard let sanity else { return grid }
        let section = sanitySection(sanity, curve: curve.flatMap { $0.request == sanity ? $0 : nil }, width: grid.width)
        var canvas = RGBImage(width: grid.width, height: grid.height + section.height)
        canvas.draw(grid, x: 0, y: 0)
        canvas.draw(section, x: 0, y: grid.height)
        return canvas
    }

    /// The sanity curve under the board: the chart of the layers done so far, its note saying what is
    /// missing; or, without a curve, one line saying so.
    static func sanitySection(_ request: SanityRequest, curve: SanityCurve?, width: Int) -> RGBImage {
        let what = "sanity check of \(request.method.description), \(request.mode.rawValue) randomisation"
        guard let curve, curve.error == nil || !curve.points.isEmpty else {
            let why = curve?.error.map { "failed: \($0)" } ?? "not computed yet (it starts once every map of the board is done)"
            var line = RGBImage(width: width, height: BitmapFont.standard.lineHeight + 16)
            line.drawText("\(what): \(why)", x: 8, y: 8, color: SanityChart.noteColor)
            return line
        }
        let chart = SanityChart(layers: curve.layers, width: width, span: curve.since == nil ? 1 : SanityCurve.changeSpan)
        let note: String?
        if let error = curve.error {
            note = "stopped after \(curve.points.count) of \(curve.layers.count) layers: \(error)"
        } else if !curve.isComplete {
            note = "still computing: \(curve.points.count) of \(curve.layers.count) layers done, the rest not drawn"
        } else {
            note = nil
        }
        // As long as the title of one time, so that it fits the board's width.
        let title = curve.since.map { "\(what), step \(curve.weightsVersion), change since step \($0)" }
            ?? "\(what), step \(curve.weightsVersion): each map against the trained one"
        return chart.draw(
            title: title,
            spearman: curve.points.map(\.spearman), ssim: curve.points.map(\.ssim), note: note)
    }

    /// Writes the grid of synthesised inputs (the channels finished so far, each labelled with its number) as
    /// `visualize-<layer>-seed<seed>-step<step>.png`; returns the path.
    public func exportVisualization(_ grid: VisualizationGrid) throws -> String {
        let done = grid.tiles.enumerated().compactMap { index, tile in tile.map { (index, $0) } }
        guard !done.isEmpty else { throw ExportError.nothingToExport("nothing to export yet: no channel is synthesised yet") }
        let options = grid.request.options
        let picture = Visualizer.grid(
            done.map(\.1), labels: done.map { String($0.0) },
            title: "\(grid.request.layer) - inputs maximising each channel, step \(grid.weightsVersion), seed \(options.seed), \(options.steps) steps",
            tile: 64)
        let name = "visualize-\(Exporter.slug(grid.request.layer))-seed\(options.seed)-step\(grid.weightsVersion).png"
        return try write(picture, name: name)
    }

    /// Writes the checkpoint of a compressed model measured at weights version `step` as
    /// `compressed-<method>-step<step>.safetensors`; returns the path.
    public func exportCheckpoint(_ checkpoint: SafeTensors, method: CompressionMethod, step: Int) throws -> String {
        let path = try path(for: "compressed-\(method.fileTag)-step\(step).safetensors")
        try checkpoint.write(to: path)
        return path
    }

    private func write(_ image: RGBImage, name: String) throws -> String {
        let path = try path(for: name)
        try PNG.write(image, to: path)
        return path
    }

    /// Where the file `name` goes, creating the export folder when it is missing.
    private func path(for name: String) throws -> String {
        if !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw ExportError.cannotCreateFolder(directory, reason: (error as NSError).localizedDescription)
            }
        }
        return directory == "." ? name : (directory as NSString).appendingPathComponent(name)
    }

    /// A name made safe for a file name: letters, digits, `.`, `_` and `-` kept, the rest `_`.
    public static func slug(_ text: String) -> String {
        String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" })
    }
}

/// Why an export wrote nothing.
public enum ExportError: Error, CustomStringConvertible, Equatable {
    case nothingToExport(String)
    case cannotCreateFolder(String, reason: String)

    public var description: String {
        switch self {
        case .nothingToExport(let why): return why
        case let .cannotCreateFolder(folder, reason): return "cannot create the export folder '\(folder)': \(reason)"
        }
    }
}
