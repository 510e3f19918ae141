import ConvKit
import ConvRender
import Foundation

/// The explanation board's groups of methods, one group on screen at a time (M cycles them): each
/// holds at most five methods, so that the image and its maps fit one row of an 80x24 terminal.
public enum ExplainGroup: String, Sendable, CaseIterable {
    /// Gradient-weighted CAM relatives, read at the selected layer.
    case gradientCAM
    /// CAM from the head's weights, and the gradient-free CAMs (Score-CAM and Ablation-CAM are slow).
    case otherCAM
    /// Gradients with respect to the input pixels (SmoothGrad and Integrated Gradients are slow).
    case pixelGradients
    /// The model's answers to perturbed inputs (both slow).
    case perturbation

    public var methods: [ExplanationMethod] {
        switch self {
        case .gradientCAM: return [.gradCAM, .gradCAMPlusPlus, .layerCAM, .hiResCAM, .xGradCAM].map(ExplanationMethod.activation)
        case .otherCAM: return [.cam, .scoreCAM, .ablationCAM, .eigenCAM].map(ExplanationMethod.activation)
        case .pixelGradients:
            return [.saliency, .smoothGrad, .integratedGradients, .guidedBackprop, .guidedGradCAM].map(ExplanationMethod.pixel)
        case .perturbation: return [.occlusion, .rise].map(ExplanationMethod.pixel)
        }
    }

    public var title: String {
        switch self {
        case .gradientCAM: return "CAM, gradient-weighted"
        case .otherCAM: return "CAM, weights / perturbation / PCA"
        case .pixelGradients: return "pixel gradients"
        case .perturbation: return "pixel perturbation"
        }
    }
}

/// The explanation board: the selected image and the maps of the current group's methods side by
/// side (CAM maps upsampled from the layer's resolution, pixel maps at 32x32, signed ones on the
/// diverging palette), then each map's faithfulness scores for this image next to the three baselines,
/// beside them the sanity curve of the selected method (`m`), and the progress of what is computing.
/// In diff mode (a board from `ExplanationBoard.change(since:)`) the maps are each method's change since the
/// marked time on the diverging palette (blue fell, red rose, white unchanged), the scores their change, and the
/// sanity curve each layer's change (`SanityCurve.change(since:)`).
public enum ExplainPanel {
    /// Columns between tiles.
    static let gap = 1
    /// The score table's width: method names (20) and five scores of six columns, one space apart.
    static let scoreTableWidth = 20 + 5 * 7
    /// The narrowest sanity curve worth drawing: a short layer name and two scores.
    static let sanityMinimumWidth = 16

    public static func draw(
        _ board: ExplanationBoard?, sanity: SanityCurve? = nil, model: AppModel, into grid: inout CellGrid, in rect: Rect,
        theme: Theme = .standard
    ) {
        guard rect.height >= 4, rect.width >= 20 else { return }
        let group = model.explainGroup
        let (top, rest) = rect.splitTop(1)
        // A board of one time is never shown as a change, nor a change since another mark.
        let current = board.flatMap { $0.request == model.explanationRequest && $0.since == model.time.mark ? $0 : nil }
        let explained = current.map { "\(GradCAMPanel.name($0.classIndex, model.classNames)) \(percent($0.probability))" + ($0.classIndex == $0.predicted ? " (predicted)" : " (c)") }
        let since = model.time.mark.map { " · Δ since step \($0)" } ?? ""
        grid.writeLine(
            "image #\(model.imageIndex) · \(explained ?? "…")\(since) · \(group.title) (M)"
                + (current.map { " · step \($0.weightsVersion)" } ?? ""),
            in: top, style: theme.title)
        let (body, progressRow) = rest.splitBottom(1)
        let methods = group.methods
        // The score table: header, one row per method, three baselines.
        let tableHeight = min(1 + methods.count + BaselineMap.allCases.count, max(body.height - 4, 0))
        let (tilesArea, lowerArea) = body.splitBottom(tableHeight)
        let hasSanity = lowerArea.width >= scoreTableWidth + 1 + sanityMinimumWidth
        let (tableArea, beside) = lowerArea.splitLeft(hasSanity ? scoreTableWidth : lowerArea.width)
        let sanityArea = beside.splitLeft(1).1  // a blank column between the two tables
        let selected = model.explainMethod
        let count = methods.count + 1
        let side = max((tilesArea.width - gap * (count - 1)) / count, 1)
        let pixels = HalfBlockImage.fittedSize(width: 32, height: 32, columns: side, rows: max(tilesArea.height - 1, 1)).width
        let imageRows = (pixels + 1) / 2
        let slots = (0..<count).map { Rect(x: tilesArea.x + $0 * (side + gap), y: tilesArea.y, width: side, height: imageRows) }
        let captionY = tilesArea.y + imageRows
        func caption(_ text: String, _ slot: Rect, _ style: Style) {
            guard captionY < tilesArea.maxY else { return }
            grid.writeLine(text, in: Rect(x: slot.x, y: captionY, width: slot.width, height: 1), alignment: .center, style: style)
        }
        if let current {
            HalfBlockImage(image: current.image).draw(into: &grid, in: slots[0])
            caption("true: \(GradCAMPanel.name(current.label, model.classNames))", slots[0], theme.text)
        } else {
            caption("computing…", slots[0], theme.dimText)
        }
        for (index, method) in methods.enumerated() {
            let slot = slots[index + 1]
            let entry = current?.entries.first { $0.method == method }
            if let entry, let heat = current?.heatmap(of: entry) {
                HalfBlockImage(image: heat).draw(into: &grid, in: slot)
            } else if let error = entry?.error {
                for (row, line) in error.wrapped(toWidth: slot.width).prefix(slot.height).enumerated() {
                    grid.writeLine(line, in: Rect(x: slot.x, y: slot.y + row, width: slot.width, height: 1), style: theme.warning)
                }
            } else if slot.height > 0 {
                let pending = current?.progress?.title == method.description ? percent(Float(current!.progress!.fraction)) : "waiting"
                grid.writeLine(pending, in: Rect(x: slot.x, y: slot.y + slot.height / 2, width: slot.width, height: 1), alignment: .center, style: theme.dimText)
            }
            let title = method.description + (method.isSigned ? " ±" : "")
            caption(hasSanity && method == selected ? "▸" + title : title, slot, entry == nil ? theme.dimText : theme.text)
        }

        let signed = current?.since != nil
        let rows: [[String]] = methods.map { method in
            row(method.description, current?.entries.first { $0.method == method }, signed: signed)
        } + BaselineMap.allCases.map { baseline in
            row(baseline.description, current?.entries.first { $0.baseline == baseline }, signed: signed)
        }
        let table = Table(
            columns: [
                Table.Column(model.time.mark.map { "Δ scores since \($0)" } ?? "scores, this image"), Table.Column("del ↓", width: 6, alignment: .trailing),
                Table.Column("ins ↑", width: 6, alignment: .trailing), Table.Column("MoRF ↓", width: 6, alignment: .trailing),
                Table.Column("LeRF ↑", width: 6, alignment: .trailing), Table.Column("drop ↓", width: 6, alignment: .trailing),
            ], rows: rows, theme: theme)
        if hasSanity, let row = methods.firstIndex(of: selected) {
            var selection = ListSelection(itemCount: rows.count, selectedIndex: row)
            table.draw(into: &grid, in: tableArea, selection: &selection)
        } else {
            table.draw(into: &grid, in: tableArea)
        }
        // As the board: a curve of one time is never shown as a change, nor a change since another mark.
        let curve = sanity.flatMap { $0.request == model.sanityRequest && $0.since == model.time.mark ? $0 : nil }
        if hasSanity { drawSanity(curve, mode: model.sanityMode, into: &grid, in: sanityArea, theme: theme) }

        let status: String
        if let progress = current?.progress {
            status = "computing \(progress.title) \(percent(Float(progress.fraction))) (\(progress.done + 1) of \(progress.total)) on a copy of the weights; keys and training go on"
        } else if current != nil, hasSanity, let progress = curve?.progress {
            let done = curve?.points.count ?? 0, total = curve?.layers.count ?? 0
            let how = model.sanityMode == .cascading ? "layers randomised" : "layers randomised alone"
            status = "sanity check of \(selected.description) \(percent(Float(progress))) (\(done) of \(total) \(how)) on a copy; keys and training go on"
        } else if current != nil {
            status = "done · e exports the board · m sanity method · R its mode · M next group"
        } else {
            status = "starting…"
        }
        grid.writeLine(status, in: progressRow, style: theme.dimText)
    }

    /// The sanity curve: Spearman's ρ and SSIM of the selected method's map with the trained model's,
    /// as the layers are randomised from the top down (`cascade`: cumulatively; `alone`: each by itself,
    /// the `mode`). When there are more layers than rows, evenly spaced ones are shown, the first and the
    /// last always; pending layers show "…".
    /// In diff mode (`curve.since`), each score's change since the marked time, signed, under `Δρ` and `ΔSSIM`.
    static func drawSanity(_ curve: SanityCurve?, mode: SanityCheck.Mode, into grid: inout CellGrid, in rect: Rect, theme: Theme) {
        guard rect.height >= 2 else { return }
        let signed = curve?.since != nil
        let columns = [
            Table.Column(mode == .cascading ? "cascade" : "alone"), Table.Column(signed ? "Δρ" : "ρ", width: 5, alignment: .trailing),
            Table.Column(signed ? "ΔSSIM" : "SSIM", width: 5, alignment: .trailing),
        ]
        guard let curve else {
            Table(columns: columns, rows: [["…", "", ""]], theme: theme).draw(into: &grid, in: rect)
            return
        }
        if let error = curve.error {
            grid.writeLine("sanity", in: rect.splitTop(1).top, style: theme.dimText.adding(.bold))
            for (row, line) in error.wrapped(toWidth: rect.width).prefix(rect.height - 1).enumerated() {
                grid.writeLine(line, in: Rect(x: rect.x, y: rect.y + 1 + row, width: rect.width, height: 1), style: theme.warning)
            }
            return
        }
        let shown = sampledIndices(count: curve.layers.count, rows: rect.height - 1)
        let rows = shown.map { index -> [String] in
            guard index < curve.points.count else { return [curve.layers[index], "…", "…"] }
            let point = curve.points[index]
            let format = signed ? "%+.2f" : "%.2f"
            return [point.layer, String(format: format, point.spearman), String(format: format, point.ssim)]
        }
        Table(columns: columns, rows: rows, theme: theme).draw(into: &grid, in: rect)
    }

    /// `rows` indices spread evenly over `0..<count`, the first and the last included (all when they fit).
    public static func sampledIndices(count: Int, rows: Int) -> [Int] {
        guard count > rows else { return Array(0..<count) }
        guard rows > 1 else { return rows == 1 ? [0] : [] }
        return (0..<rows).map { $0 * (count - 1) / (rows - 1) }
    }

    /// A table row: the method's scores (`signed`: their changes, with a sign), "…" while pending, or why it has none.
    static func row(_ title: String, _ entry: ExplanationBoard.Entry?, signed: Bool = false) -> [String] {
        guard let entry else { return [title, "…", "…", "…", "…", "…"] }
        guard let scores = entry.scores else { return [title + ": " + (entry.error ?? "no scores"), "", "", "", "", ""] }
        let (score, drop) = signed ? ("%+.3f", "%+.1f%%") : ("%.3f", "%.1f%%")
        return [
            title, String(format: score, scores.deletion), String(format: score, scores.insertion),
            String(format: score, scores.roadMostRelevantFirst), String(format: score, scores.roadLeastRelevantFirst),
            String(format: drop, scores.drop),
        ]
    }

    static func percent(_ value: Float) -> String { "\(Int((value * 100).rounded()))%" }
}
