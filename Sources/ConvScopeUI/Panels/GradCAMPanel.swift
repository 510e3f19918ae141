import ConvKit
import ConvRender

/// The selected test image, its class-activation heatmap and the overlay side by side, for the
/// chosen layer, class and method, with the top-3 predictions under them: bars green for the true
/// class, red for a wrong top prediction, grey otherwise.
public enum GradCAMPanel {
    public static func draw(
        _ insight: Insight?, model: AppModel, into grid: inout CellGrid, in rect: Rect, theme: Theme = .standard
    ) {
        guard rect.height >= 3 else { return }
        let testCount = model.testLabels.count
        let (pickerRow, rest) = rect.splitTop(1)
        grid.writeLine(
            "test image #\(model.imageIndex) of \(testCount)   ←/→ r x", in: pickerRow, style: theme.title)
        guard let insight else {
            grid.writeLine("computing…", in: rest, style: theme.dimText)
            return
        }
        let names = model.classNames
        let truth = insight.label, predicted = insight.predicted
        let topRows = min(3, max(rest.height - 5, 0))
        let gap = 2
        let side = max((rest.width - 2 * gap) / 3, 1)
        let pixels = HalfBlockImage.fittedSize(width: 32, height: 32, columns: side, rows: rest.height - topRows - 2).width
        let (images, lower) = rest.splitTop((pixels + 1) / 2)
        let (captions, belowCaptions) = lower.splitTop(1)
        let (explainRow, barsArea) = belowCaptions.splitTop(1)
        let slots = (0..<3).map { Rect(x: images.x + $0 * (side + gap), y: images.y, width: side, height: images.height) }
        HalfBlockImage(image: insight.image).draw(into: &grid, in: slots[0])
        grid.writeLine("true: \(name(truth, names))", in: Rect(x: slots[0].x, y: captions.y, width: side, height: 1), alignment: .center, style: theme.text)
        if let map = insight.activationMap, pixels > 0 {
            // Diff mode: the map is the change since the marked time, signed: the diverging palette, white for none.
            let mark = model.time.mark
            let (heat, overlay) = mark == nil
                ? Visualizer.overlay(image: insight.image, map: map, size: pixels)
                : changeOverlay(image: insight.image, map: map, size: pixels)
            HalfBlockImage(image: heat).draw(into: &grid, in: slots[1])
            HalfBlockImage(image: overlay).draw(into: &grid, in: slots[2])
            let note = mark.map { "Δ since step \($0)" } ?? (map.isEmpty ? "no positive evidence" : "\(map.method) at \(map.layer)")
            grid.writeLine(note, in: Rect(x: slots[1].x, y: captions.y, width: side, height: 1), alignment: .center, style: theme.dimText)
            grid.writeLine("overlay", in: Rect(x: slots[2].x, y: captions.y, width: side, height: 1), alignment: .center, style: theme.dimText)
        } else {
            let reason = insight.activationMapError ?? "no map"
            let area = Rect(x: slots[1].x, y: images.y, width: images.maxX - slots[1].x, height: images.height)
            for (index, line) in "\(model.method): \(reason)".wrapped(toWidth: area.width).prefix(area.height).enumerated() {
                grid.writeLine(line, in: Rect(x: area.x, y: area.y + index, width: area.width, height: 1), style: theme.warning)
            }
        }

        let target = insight.activationMap?.classIndex ?? model.classIndex ?? predicted
        let why = target == predicted ? "predicted" : "chosen with c"
        grid.writeLine(
            "explaining \(name(target, names)) (\(why))   method \(model.method) (m)", in: explainRow, style: theme.text)
        let rows = insight.ranking.prefix(topRows).map { index in
            BarRow(
                label: name(index, names), value: Double(insight.probabilities[index]), color: barColor(index, truth: truth, predicted: predicted),
                highlighted: index == truth)
        }
        BarChart(rows: Array(rows), theme: theme).draw(into: &grid, in: barsArea)
    }

    /// A signed change map on the diverging palette (zero white, the largest change at the ends) and its overlay.
    static func changeOverlay(image: RGBImage, map: ActivationMap, size: Int) -> (heatmap: RGBImage, overlay: RGBImage) {
        let heat = HeatMap(width: map.width, height: map.height, values: map.values).signedNormalized()
            .resizedBilinear(width: size, height: size).colored(.diverging)
        return (heat, RGBImage.blend(heat, image.resizedBilinear(width: size, height: size), alpha: 0.5))
    }

    /// Green for the true class, red for a wrong top prediction, grey for the others.
    public static func barColor(_ index: Int, truth: Int, predicted: Int) -> Color {
        if index == truth { return AppColors.good }
        return index == predicted ? AppColors.bad : AppColors.neutral
    }

    static func name(_ index: Int, _ names: [String]) -> String {
        names.indices.contains(index) ? names[index] : "class \(index)"
    }
}
