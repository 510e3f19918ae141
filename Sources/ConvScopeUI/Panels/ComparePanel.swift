import ConvKit
import ConvPresent
import ConvRender

/// The A/B view (`--compare`): over the whole body, three pages under a tab bar. Weights: each conv and fc
/// layer's relative change and cosine with a bar, both accuracies and the flip count. Classes: per-class
/// accuracy of A and B with bars and the difference. Flips: the gallery of test images whose prediction
/// flips, one at a time (←/→): the image, A's and B's Grad-CAM overlays and their difference (B − A on the
/// diverging palette: red where B looks more, blue where less).
public enum ComparePanel {
    public static func draw(
        _ view: CompareView, progress: ComparisonWorker.Progress, explanation: ExplanationPair?, model: AppModel,
        into grid: inout CellGrid, in rect: Rect, theme: Theme = .standard
    ) {
        grid.fill(rect, with: Cell(" ", style: theme.text))
        let inside = Frame(title: "A/B: \(view.nameA) vs \(view.nameB)  (D closes)", isFocused: true, theme: theme).draw(into: &grid, in: rect)
        let content = Rect(x: inside.x + 1, y: inside.y, width: inside.width - 2, height: inside.height)
        guard content.height >= 4, content.width >= 20 else { return }
        let (bar, body) = content.splitTop(1)
        let pages = CompareView.Page.allCases
        Tabs(titles: pages.map(\.rawValue), selectedIndex: pages.firstIndex(of: view.page) ?? 0, theme: theme).draw(into: &grid, in: bar)
        let comparison: CheckpointComparison
        switch progress {
        case .comparing:
            grid.writeLine("comparing A and B on \(model.testLabels.count) test images…", in: body.splitTop(1).0, style: theme.dimText)
            return
        case .failed(let reason):
            for (index, line) in "comparison failed: \(reason)".wrapped(toWidth: body.width).prefix(body.height).enumerated() {
                grid.writeLine(line, in: Rect(x: body.x, y: body.y + index, width: body.width, height: 1), style: theme.warning)
            }
            return
        case .done(let result):
            comparison = result
        }
        let (summary, rest) = body.splitTop(2)
        grid.writeLine("accuracy " + ComparisonText.accuracies(comparison), in: summary.splitTop(1).0, style: theme.text)
        grid.writeLine(ComparisonText.flipSummary(comparison), in: summary.splitTop(1).1, style: theme.dimText)
        switch view.page {
        case .weights: drawWeights(comparison, into: &grid, in: rest, theme: theme)
        case .classes: drawClasses(comparison, classNames: model.classNames, into: &grid, in: rest, theme: theme)
        case .flips: drawFlips(view, comparison, explanation: explanation, model: model, into: &grid, in: rest, theme: theme)
        }
    }

    /// One row per layer: name, shapes, ||B-A||/||A|| with a bar scaled to the largest change, cosine.
    static func drawWeights(_ comparison: CheckpointComparison, into grid: inout CellGrid, in rect: Rect, theme: Theme) {
        guard rect.height >= 2 else { return }
        let (header, rows) = rect.splitTop(1)
        let nameWidth = min(max(comparison.layers.map(\.layer.count).max() ?? 5, 5), 16)
        let shapeWidth = 11
        let barWidth = max(rect.width - nameWidth - 2 * shapeWidth - 8 - 8 - 5, 0)
        func line(_ name: String, _ a: String, _ b: String, _ change: String, _ cosine: String) -> String {
            name.padded(toWidth: nameWidth) + " " + a.padded(toWidth: shapeWidth, alignment: .trailing) + " "
                + b.padded(toWidth: shapeWidth, alignment: .trailing) + " " + change.padded(toWidth: 8, alignment: .trailing) + " "
                + cosine.padded(toWidth: 7, alignment: .trailing) + " "
        }
        grid.writeLine(line("layer", "shape A", "shape B", "change", "cosine") + "(change = ||B-A||/||A||)", in: header, style: theme.title)
        let largest = comparison.layers.compactMap(\.relativeChange).max() ?? 0
        let shown = comparison.layers.prefix(rows.height)
        for (index, layer) in shown.enumerated() {
            let y = rows.y + index
            let change = layer.relativeChange.map { String(format: "%.4f", $0) } ?? (layer.gap == .shapesDiffer ? "differ" : "-")
            let text = line(layer.layer, ComparisonText.shape(layer.shapeA), ComparisonText.shape(layer.shapeB), change, ComparisonText.cosine(layer))
            let x = grid.write(text, x: rows.x, y: y, style: layer.gap == nil ? theme.text : theme.dimText, clip: rows)
            if let value = layer.relativeChange, barWidth > 0 {
                let fraction = largest > 0 ? value / largest : 0
                grid.write(BarChart.bar(value: fraction, width: barWidth), x: x, y: y, style: Style(foreground: AppColors.accent), clip: rows)
            } else if let gap = layer.gap {
                grid.write(gap.rawValue, x: x, y: y, style: theme.dimText, clip: rows)
            }
        }
        if comparison.layers.count > rows.height {
            let last = Rect(x: rows.x, y: rows.maxY - 1, width: rows.width, height: 1)
            grid.fill(last, with: Cell(" ", style: theme.text))
            grid.writeLine("… \(comparison.layers.count - rows.height + 1) more layers (convscope diff lists them all)", in: last, style: theme.dimText)
        }
    }

    /// One row per class: A's and B's accuracy with bars, and the change in points.
    static func drawClasses(_ comparison: CheckpointComparison, classNames: [String], into grid: inout CellGrid, in rect: Rect, theme: Theme) {
        guard rect.height >= 2 else { return }
        let (header, rows) = rect.splitTop(1)
        let nameWidth = min(max(classNames.map(\.count).max() ?? 5, 5), 14)
        let barWidth = max((rect.width - nameWidth - 8 - 8 - 8 - 4) / 2, 0)
        let blank = String(repeating: " ", count: barWidth)
        grid.writeLine("class".padded(toWidth: nameWidth) + "      A " + blank + "       B " + blank + " points", in: header, style: theme.title)
        let pairs = zip(comparison.scoreA.perClassAccuracy, comparison.scoreB.perClassAccuracy)
        for (index, (a, b)) in pairs.enumerated().prefix(rows.height) {
            let y = rows.y + index
            let name = index < classNames.count ? classNames[index] : "class \(index)"
            var x = grid.write(name.padded(toWidth: nameWidth) + String(format: " %5.1f%% ", a * 100), x: rows.x, y: y, style: theme.text, clip: rows)
            x = grid.write(BarChart.bar(value: a, width: barWidth), x: x, y: y, style: Style(foreground: AppColors.neutral), clip: rows)
            x = grid.write(String(format: " %5.1f%% ", b * 100), x: x, y: y, style: theme.text, clip: rows)
            x = grid.write(BarChart.bar(value: b, width: barWidth), x: x, y: y, style: Style(foreground: AppColors.accent), clip: rows)
            let delta = (b - a) * 100
            grid.write(String(format: " %+6.1f", delta), x: x, y: y,
                       style: Style(foreground: delta > 0 ? AppColors.good : delta < 0 ? AppColors.bad : AppColors.neutral), clip: rows)
        }
    }

    /// The flip gallery: which flip, then image, A's overlay, B's overlay and the difference, captioned.
    static func drawFlips(
        _ view: CompareView, _ comparison: CheckpointComparison, explanation: ExplanationPair?, model: AppModel,
        into grid: inout CellGrid, in rect: Rect, theme: Theme
    ) {
        guard rect.height >= 4 else { return }
        let (titleRow, rest) = rect.splitTop(1)
        guard let flipImage = view.flipImage, view.flipIndex < comparison.flips.count else {
            grid.writeLine("no test image flips between A and B", in: titleRow, style: theme.dimText)
            return
        }
        let flip = comparison.flips[view.flipIndex]
        grid.writeLine("flip \(view.flipIndex + 1) of \(comparison.flips.count) ←/→  " + ComparisonText.flip(flip, classNames: model.classNames),
                       in: titleRow, style: theme.text)
        let (images, lower) = rest.splitBottom(2)
        let (captions, footer) = lower.splitTop(1)
        let gap = 2
        let side = max((images.width - 3 * gap) / 4, 1)
        let pixels = HalfBlockImage.fittedSize(width: 32, height: 32, columns: side, rows: images.height).width
        let slots = (0..<4).map { Rect(x: images.x + $0 * (side + gap), y: images.y, width: side, height: images.height) }
        func caption(_ text: String, _ slot: Int, _ style: Style) {
            grid.writeLine(text, in: Rect(x: slots[slot].x, y: captions.y, width: side, height: 1), alignment: .center, style: style)
        }
        guard let pair = explanation, pair.imageIndex == flipImage, pixels > 0 else {
            grid.writeLine("explaining image #\(flipImage) with A and B…", in: images.splitTop(1).0, style: theme.dimText)
            return
        }
        let names = model.classNames
        HalfBlockImage(image: pair.image).draw(into: &grid, in: slots[0])
        caption("#\(flipImage) \(GradCAMPanel.name(pair.label, names))", 0, theme.text)
        for (slot, map, problem, prediction) in [
            (1, pair.mapA, pair.problemA, flip.predictionA), (2, pair.mapB, pair.problemB, flip.predictionB),
        ] {
            let who = slot == 1 ? "A" : "B"
            if let map {
                HalfBlockImage(image: Visualizer.overlay(image: pair.image, map: map, size: pixels).overlay).draw(into: &grid, in: slots[slot])
            } else {
                for (index, line) in (problem ?? "no map").wrapped(toWidth: side).prefix(slots[slot].height).enumerated() {
                    grid.writeLine(line, in: Rect(x: slots[slot].x, y: slots[slot].y + index, width: side, height: 1), style: theme.warning)
                }
            }
            caption("\(who): \(GradCAMPanel.name(prediction, names))", slot,
                    Style(foreground: prediction == pair.label ? AppColors.good : AppColors.bad))
        }
        if let difference = pair.difference {
            let picture = difference.signedNormalized().resizedBilinear(width: pixels, height: pixels).colored(.diverging)
            HalfBlockImage(image: picture).draw(into: &grid, in: slots[3])
        }
        caption("B − A", 3, theme.dimText)
        let layers = [pair.mapA?.layer, pair.mapB?.layer].compactMap { $0 }
        let at = Set(layers).count == 1 ? "at \(layers[0])" : layers.isEmpty ? "" : "at \(layers.joined(separator: " / "))"
        grid.writeLine("Grad-CAM \(at) (j/k layer) of each model's prediction; red: B looks more", in: footer, style: theme.dimText)
    }
}
