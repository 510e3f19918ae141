import ConvKit
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
/// and the progress of the map being computed.
public enum ExplainPanel {
    /// Columns between tiles.
    static let gap = 1

    public static func draw(
        _ board: ExplanationBoard?, model: AppModel, into grid: inout CellGrid, in rect: Rect, theme: Theme = .standard
    ) {
        guard rect.height >= 4, rect.width >= 20 else { return }
        let group = model.explainGroup
        let (top, rest) = rect.splitTop(1)
        let current = board.flatMap { $0.request == model.explanationRequest ? $0 : nil }
        let explained = current.map { "\(GradCAMPanel.name($0.classIndex, model.classNames)) \(percent($0.probability))" + ($0.classIndex == $0.predicted ? " (predicted)" : " (c)") }
        grid.writeLine(
            "image #\(model.imageIndex) · \(explained ?? "…") · \(group.title) (M)"
                + (current.map { " · step \($0.weightsVersion)" } ?? ""),
            in: top, style: theme.title)
        let (body, progressRow) = rest.splitBottom(1)
        let methods = group.methods
        // The score table: header, one row per method, three baselines.
        let tableHeight = min(1 + methods.count + BaselineMap.allCases.count, max(body.height - 4, 0))
        let (tilesArea, tableArea) = body.splitBottom(tableHeight)
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
            if let heat = entry?.heatmap {
                HalfBlockImage(image: heat).draw(into: &grid, in: slot)
            } else if let error = entry?.error {
                for (row, line) in error.wrapped(toWidth: slot.width).prefix(slot.height).enumerated() {
                    grid.writeLine(line, in: Rect(x: slot.x, y: slot.y + row, width: slot.width, height: 1), style: theme.warning)
                }
            } else if slot.height > 0 {
                let pending = current?.progress?.title == method.description ? percent(Float(current!.progress!.fraction)) : "waiting"
                grid.writeLine(pending, in: Rect(x: slot.x, y: slot.y + slot.height / 2, width: slot.width, height: 1), alignment: .center, style: theme.dimText)
            }
            caption(method.description + (method.isSigned ? " ±" : ""), slot, entry == nil ? theme.dimText : theme.text)
        }

        let rows: [[String]] = methods.map { method in
            row(method.description, current?.entries.first { $0.method == method })
        } + BaselineMap.allCases.map { baseline in
            row(baseline.description, current?.entries.first { $0.baseline == baseline })
        }
        Table(
            columns: [
                Table.Column("faithfulness (this image)"), Table.Column("del ↓", width: 7, alignment: .trailing),
                Table.Column("ins ↑", width: 7, alignment: .trailing), Table.Column("MoRF ↓", width: 7, alignment: .trailing),
                Table.Column("LeRF ↑", width: 7, alignment: .trailing), Table.Column("drop ↓", width: 7, alignment: .trailing),
            ], rows: rows, theme: theme
        ).draw(into: &grid, in: tableArea)

        let status: String
        if let progress = current?.progress {
            status = "computing \(progress.title) \(percent(Float(progress.fraction))) (\(progress.done + 1) of \(progress.total)) on a copy of the weights; keys and training go on"
        } else if current != nil {
            status = "done · e exports the board · M next group · m cycles the Grad-CAM view's method"
        } else {
            status = "starting…"
        }
        grid.writeLine(status, in: progressRow, style: theme.dimText)
    }

    /// A table row: the method's scores, "…" while pending, or why it has none.
    static func row(_ title: String, _ entry: ExplanationBoard.Entry?) -> [String] {
        guard let entry else { return [title, "…", "…", "…", "…", "…"] }
        guard let scores = entry.scores else { return [title + ": " + (entry.error ?? "no scores"), "", "", "", "", ""] }
        return [
            title, String(format: "%.3f", scores.deletion), String(format: "%.3f", scores.insertion),
            String(format: "%.3f", scores.roadMostRelevantFirst), String(format: "%.3f", scores.roadLeastRelevantFirst),
            String(format: "%.1f%%", scores.drop),
        ]
    }

    static func percent(_ value: Float) -> String { "\(Int((value * 100).rounded()))%" }
}
